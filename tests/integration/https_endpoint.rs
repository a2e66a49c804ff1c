//! AWS answers over HTTPS only, while the local stack speaks plain HTTP: these tests put the
//! stack's TLS front (`devstack/tls_front.py`, a certificate for 127.0.0.1 signed by an authority
//! made at start) before it, so that the HTTPS client every AWS call goes through (rustls on ring,
//! the platform's root certificates: `flowlogs_forwarder::aws_http`) is exercised end to end.

use std::path::PathBuf;

use crate::support::config::StackConfig;
use crate::support::{printed, Behaviours, Service, Stack};

fn tls_endpoint(stack: &Stack) -> (String, PathBuf) {
    let state = stack.state();
    (
        state["aws_tls_endpoint"]
            .as_str()
            .expect("aws_tls_endpoint")
            .to_string(),
        PathBuf::from(state["aws_tls_ca_file"].as_str().expect("aws_tls_ca_file")),
    )
}

/// `plan` reads every resource (STS, S3, EC2, IAM, Lambda, CloudWatch Logs...) through the HTTPS
/// endpoint when the authority is trusted the way a user adds one (`SSL_CERT_FILE`), and refuses
/// the same endpoint, naming the certificate, when it is not: verification is on and the roots
/// are the platform's, not a list built into the binary.
#[tokio::test(flavor = "multi_thread")]
async fn the_deployer_speaks_https_and_trusts_only_the_platforms_roots() {
    let stack = Stack::start_with(&[Service::Moto, Service::AwsTls], Behaviours::none());
    let (endpoint, ca_file) = tls_endpoint(&stack);
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let vpc = stack.create_vpc("10.20.0.0/16").await;
    let cfg = StackConfig::lambda("tls", &vpc, "http://127.0.0.1:4318").write(stack.dir());

    let trusted = stack.run(
        &cfg,
        &["plan", "--detailed-exitcode"],
        &[
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("SSL_CERT_FILE", ca_file.to_str().unwrap()),
        ],
    );
    let text = printed(&trusted);
    assert_eq!(
        trusted.status.code(),
        Some(2),
        "a plan with changes: {text}"
    );
    assert!(text.contains("to create"), "{text}");
    assert!(
        text.contains(&vpc),
        "the flow log of {vpc} is planned: {text}"
    );

    let untrusted = stack.run(&cfg, &["plan"], &[("AWS_ENDPOINT_URL", endpoint.as_str())]);
    let text = printed(&untrusted);
    assert_eq!(untrusted.status.code(), Some(1), "{text}");
    assert!(
        text.contains("invalid peer certificate: UnknownIssuer")
            && text.contains("does not trust the endpoint's certificate authority")
            && !text.contains("check your credentials"),
        "the refusal names the certificate and the fix, not the credentials: {text}"
    );
}
