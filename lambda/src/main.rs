//! The `bootstrap` binary: wires the S3 client and the exporter into the Lambda runtime.

use flowlogs_forwarder::export::{ExportConfig, Exporter};
use flowlogs_forwarder::handler::{self, Margins, S3Source};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::time::{Instant, SystemTime};

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
    let exporter = Exporter::new(config, None)?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let source = S3Source(aws_sdk_s3::Client::new(&aws));

    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (source, exporter) = (&source, &exporter);
        async move {
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
