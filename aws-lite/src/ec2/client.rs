//! The client: an `SdkConfig`'s settings, and one SDK `Operation` per call that signs, sends,
//! retries and reads a Query request.

use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_types::body::SdkBody;
use aws_types::sdk_config::SdkConfig;
// What the client's tests (client/tests.rs) read through `use super::*`.
use super::error::{Ec2Error, Error};
use super::ops::{
    self, CreateFlowLogs, CreateFlowLogsOutput, Filter, FlowLog, Tag, Unsuccessful, Vpc,
};
use super::query::Params;
use super::xml::{self, Node};
use crate::service::{self, Service};

/// EC2 to the SDK's runtime: signing name, service id (`AWS_ENDPOINT_URL_EC2`), endpoint host.
const EC2: Service = Service {
    signing_name: "ec2",
    service_id: "EC2",
    endpoint_prefix: "ec2",
};

/// An EC2 client for one region and set of credentials. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Ec2 {
    client: service::Client,
}

/// EC2's public endpoint in `region` (the China regions are under `amazonaws.com.cn`).
#[cfg(test)]
pub(crate) fn public_endpoint(region: &str) -> String {
    EC2.public_endpoint(region)
}

impl Ec2 {
    /// A client with everything the config says: region, endpoint, credentials, HTTP client,
    /// retry and timeout settings, sleep and time source.
    pub fn new(config: &SdkConfig) -> Ec2 {
        Ec2 {
            client: service::Client::new(EC2, config),
        }
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        self.client.region()
    }

    fn operation(&self, action: &str) -> Operation<Params, Node, Ec2Error> {
        let name = action.to_string();
        self.client.operation(
            action,
            move |params: Params| request(&name, &params),
            answer,
        )
    }

    /// Any action: its parameters in, the answer's root element out (`<ActionResponse>`).
    pub async fn call(&self, action: &str, params: Params) -> Result<Node, Error> {
        self.operation(action).invoke(params).await
    }

    /// Every flow log with one of `ids` (none: any) matching every filter, all pages.
    pub async fn describe_flow_logs(
        &self,
        ids: &[String],
        filters: &[Filter],
    ) -> Result<Vec<FlowLog>, Error> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let mut p = Params::new();
            p.list("FlowLogId", ids)
                .filters(filters)
                .opt("NextToken", token.take());
            let answer = self.call("DescribeFlowLogs", p).await?;
            found.extend(answer.items("flowLogSet").map(ops::flow_log));
            match ops::next_token(&answer) {
                Some(next) => token = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Creates flow logs; the resources AWS refused come back in `unsuccessful`.
    pub async fn create_flow_logs(
        &self,
        request: &CreateFlowLogs,
    ) -> Result<CreateFlowLogsOutput, Error> {
        let answer = self.call("CreateFlowLogs", request.params()).await?;
        Ok(ops::create_flow_logs_output(&answer))
    }

    /// Deletes flow logs; the ones AWS could not delete come back with EC2's code.
    pub async fn delete_flow_logs(&self, ids: &[String]) -> Result<Vec<Unsuccessful>, Error> {
        let mut p = Params::new();
        p.list("FlowLogId", ids);
        let answer = self.call("DeleteFlowLogs", p).await?;
        Ok(ops::unsuccessful(&answer))
    }

    /// Every VPC matching every filter, all pages.
    pub async fn describe_vpcs(&self, filters: &[Filter]) -> Result<Vec<Vpc>, Error> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let mut p = Params::new();
            p.filters(filters).opt("NextToken", token.take());
            let answer = self.call("DescribeVpcs", p).await?;
            found.extend(answer.items("vpcSet").map(ops::vpc));
            match ops::next_token(&answer) {
                Some(next) => token = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Creates a VPC with this IPv4 range and tags.
    pub async fn create_vpc(&self, cidr_block: &str, tags: &[Tag]) -> Result<Vpc, Error> {
        let mut p = Params::new();
        p.set("CidrBlock", cidr_block)
            .tag_specification("vpc", tags);
        let answer = self.call("CreateVpc", p).await?;
        Ok(answer.path("vpc").map(ops::vpc).unwrap_or_default())
    }

    /// Adds or overwrites tags on resources.
    pub async fn create_tags(&self, resource_ids: &[String], tags: &[Tag]) -> Result<(), Error> {
        let mut p = Params::new();
        p.list("ResourceId", resource_ids).tags("Tag", tags);
        self.call("CreateTags", p).await.map(|_| ())
    }

    /// Creates a transit gateway with default options; its id.
    pub async fn create_transit_gateway(&self, tags: &[Tag]) -> Result<String, Error> {
        let mut p = Params::new();
        p.tag_specification("transit-gateway", tags);
        let answer = self.call("CreateTransitGateway", p).await?;
        Ok(answer
            .text_at("transitGateway/transitGatewayId")
            .unwrap_or_default()
            .to_string())
    }
}

fn request(action: &str, params: &Params) -> Result<HttpRequest, BoxError> {
    let mut request = HttpRequest::new(SdkBody::from(params.encode(action)));
    request.set_method("POST")?;
    request.set_uri("/")?;
    request.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    Ok(request)
}

// The orchestrator's deserializer signature: its error type is not ours to box.
#[allow(clippy::result_large_err)]
fn answer(response: &HttpResponse) -> Result<Node, OrchestratorError<Ec2Error>> {
    let status = response.status().as_u16();
    let body = service::body(response)?;
    if !(200..300).contains(&status) {
        return Err(OrchestratorError::operation(Ec2Error::from_answer(
            status, body,
        )));
    }
    xml::parse(&String::from_utf8_lossy(body)).map_err(|e| OrchestratorError::response(e.into()))
}

#[cfg(test)]
mod tests;
