//! The client end to end over an in-process HTTP client: what goes on the wire (POST, form body,
//! SigV4 for `ec2` in the config's region, the endpoint) and what comes back (pages, EC2's
//! errors, throttling retried).

use std::sync::{Arc, Mutex};

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::region::Region;

use super::*;
use crate::test_http::Seen;

/// A client whose HTTP answers are `answers` in turn (status, body), with what it sent.
fn answering(answers: Vec<(u16, String)>, endpoint: Option<&str>) -> (Ec2, Arc<Mutex<Vec<Seen>>>) {
    let answers = answers.into_iter().map(|(s, b)| (s, vec![], b)).collect();
    let (config, seen) = crate::test_http::answering(answers, endpoint);
    (Ec2::new(&config), seen)
}

fn ok(action: &str, body: &str) -> (u16, String) {
    (
        200,
        format!("<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>{body}</{action}Response>"),
    )
}

fn error(status: u16, code: &str) -> (u16, String) {
    (
        status,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>m</Message></Error></Errors><RequestID>req-1</RequestID></Response>"),
    )
}

#[tokio::test]
async fn a_request_is_a_signed_form_post_to_the_configured_endpoint() {
    let (ec2, seen) = answering(
        vec![ok("DeleteFlowLogs", "<unsuccessful/>")],
        Some("http://127.0.0.1:4566"),
    );
    assert_eq!(ec2.endpoint(), "http://127.0.0.1:4566");
    let unsuccessful = ec2.delete_flow_logs(&["fl-1".into()]).await.unwrap();
    assert!(unsuccessful.is_empty());
    let seen = seen.lock().unwrap();
    let r = &seen[0];
    assert_eq!(r.uri, "http://127.0.0.1:4566/");
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.content_type,
        "application/x-www-form-urlencoded; charset=utf-8"
    );
    assert_eq!(
        r.body,
        "Action=DeleteFlowLogs&Version=2016-11-15&FlowLogId.1=fl-1"
    );
    assert!(
        r.authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=ANOTREAL/")
            && r.authorization.contains("/eu-west-1/ec2/aws4_request"),
        "{}",
        r.authorization
    );
}

#[test]
fn without_an_endpoint_the_regions_public_one_is_used() {
    let (ec2, _) = answering(vec![], None);
    assert_eq!(ec2.endpoint(), "https://ec2.eu-west-1.amazonaws.com");
    assert_eq!(
        public_endpoint("cn-north-1"),
        "https://ec2.cn-north-1.amazonaws.com.cn"
    );
}

#[tokio::test]
async fn every_page_is_read() {
    let (ec2, seen) = answering(
        vec![
            ok(
                "DescribeVpcs",
                "<vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet><nextToken>p2</nextToken>",
            ),
            ok(
                "DescribeVpcs",
                "<vpcSet><item><vpcId>vpc-2</vpcId><isDefault>true</isDefault></item></vpcSet>",
            ),
        ],
        None,
    );
    let vpcs = ec2
        .describe_vpcs(&[Filter::new("tag:team", ["a"])])
        .await
        .unwrap();
    let ids: Vec<_> = vpcs.iter().map(|v| (v.id.as_str(), v.is_default)).collect();
    assert_eq!(ids, [("vpc-1", false), ("vpc-2", true)]);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[1].body,
        "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=a&NextToken=p2"
    );
}

#[tokio::test]
async fn throttling_is_retried_and_a_client_error_is_not() {
    let (ec2, seen) = answering(
        vec![
            error(503, "RequestLimitExceeded"),
            ok("DescribeFlowLogs", "<flowLogSet/>"),
        ],
        None,
    );
    assert!(ec2.describe_flow_logs(&[], &[]).await.unwrap().is_empty());
    assert_eq!(seen.lock().unwrap().len(), 2);

    let (ec2, seen) = answering(vec![error(400, "InvalidFlowLogId.NotFound")], None);
    let e = ec2.delete_flow_logs(&["fl-1".into()]).await.unwrap_err();
    let service = e.as_service_error().expect("EC2's own error");
    assert_eq!(service.code(), Some("InvalidFlowLogId.NotFound"));
    assert_eq!(service.message(), Some("m"));
    assert_eq!(
        aws_types::request_id::RequestId::request_id(service),
        Some("req-1")
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_test_actions_read_their_answers() {
    let (ec2, seen) = answering(
        vec![
            ok(
                "CreateVpc",
                "<vpc><vpcId>vpc-9</vpcId><cidrBlock>10.0.0.0/16</cidrBlock><ownerId>123456789012</ownerId></vpc>",
            ),
            ok(
                "CreateTransitGateway",
                "<transitGateway><transitGatewayId>tgw-1</transitGatewayId><state>pending</state></transitGateway>",
            ),
            ok("CreateTags", "<return>true</return>"),
        ],
        None,
    );
    let vpc = ec2
        .create_vpc("10.0.0.0/16", &[Tag::new("Name", "prod")])
        .await
        .unwrap();
    assert_eq!(
        (vpc.id.as_str(), vpc.owner_id.as_deref()),
        ("vpc-9", Some("123456789012"))
    );
    assert_eq!(ec2.create_transit_gateway(&[]).await.unwrap(), "tgw-1");
    ec2.create_tags(&["vpc-9".into()], &[Tag::new("Name", "x")])
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0].body,
        "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=prod"
    );
    assert_eq!(
        seen[2].body,
        "Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-9&Tag.1.Key=Name&Tag.1.Value=x"
    );
}
/// The service config as aws-config loads it from the environment and the profile.
#[derive(Debug)]
struct Env(&'static str);

impl aws_types::service_config::LoadServiceConfig for Env {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.service_id() == "EC2" && key.env() == "AWS_ENDPOINT_URL").then(|| self.0.to_string())
    }
}

#[test]
fn aws_endpoint_url_ec2_wins_over_aws_endpoint_url_unless_the_code_set_one() {
    let mut from_env = SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .service_config(Env("http://127.0.0.1:5000"));
    from_env.set_endpoint_url(Some("http://127.0.0.1:4566".into()));
    from_env.insert_origin(
        "endpoint_url",
        aws_types::origin::Origin::shared_environment_variable(),
    );
    assert_eq!(
        Ec2::new(&from_env.build()).endpoint(),
        "http://127.0.0.1:5000"
    );
    let mut in_code = SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .service_config(Env("http://127.0.0.1:5000"))
        .endpoint_url("http://127.0.0.1:4566");
    in_code.insert_origin("endpoint_url", aws_types::origin::Origin::shared_config());
    assert_eq!(
        Ec2::new(&in_code.build()).endpoint(),
        "http://127.0.0.1:4566"
    );
}
