//! The `bootstrap` binary: wires the S3 client and the exporter into the Lambda runtime.

use flowlogs_forwarder::export::{ExportConfig, Exporter};
use flowlogs_forwarder::handler::{self, Margins, S3Source};
use flowlogs_forwarder::report::ErrorKind;
use flowlogs_forwarder::secret::SecretRef;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::time::{Instant, SystemTime};
use tokio::sync::OnceCell;

#[tokio::main]
async fn main() -> Result<(), Error> {
    flowlogs_forwarder::memory::fix_mmap_threshold();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
            }),
        )
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .init();

    let config = ExportConfig::from_env()?;
    tracing::info!(endpoint = %config.endpoint, protocol = ?config.protocol, "forwarder starting");
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(flowlogs_forwarder::aws_http::client())
        .load()
        .await;
    let source = S3Source(aws_sdk_s3::Client::new(&aws));
    // Header values kept in the stack's secret are read once per cold start, at the first
    // invocation; an invocation that cannot read them fails (SecretUnreadable) and the next one
    // tries again. No export goes out without them.
    let secret = SecretRef::from_env();
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    if secret.is_none() {
        let exporter = Exporter::new(config.clone(), None)?;
        let _ = EXPORTER.set(exporter);
    }
    let exporter_for = |config: ExportConfig| {
        let (secret, secrets) = (secret.clone(), secrets.clone());
        async move {
            let mut config = config;
            if let Some(secret) = &secret {
                let headers = flowlogs_forwarder::secret::read(&secrets, secret)
                    .await
                    .map_err(|e| e.to_string())?;
                flowlogs_forwarder::secret::merge(&mut config.headers, headers);
                tracing::info!(secret = %secret.arn, version = ?secret.version, "header values read from the stack's secret");
            }
            Exporter::new(config, None).map_err(|e| format!("{e:#}"))
        }
    };

    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (source, config, exporter_for) = (&source, &config, &exporter_for);
        async move {
            let exporter = match EXPORTER
                .get_or_try_init(|| exporter_for(config.clone()))
                .await
            {
                Ok(exporter) => exporter,
                Err(message) => {
                    return Err(handler::refuse(
                        &event.payload,
                        ErrorKind::SecretUnreadable,
                        message,
                    ))
                }
            };
            let left = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            let deadline = (event.context.deadline > 0).then(|| Instant::now() + left);
            handler::handle(
                source,
                exporter,
                event.payload,
                deadline,
                Margins::default(),
            )
            .await
        }
    }))
    .await
}

/// The exporter, made once per cold start (with the secret's header values, when there are).
static EXPORTER: OnceCell<Exporter> = OnceCell::const_new();
