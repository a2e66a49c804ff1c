//! The client: one SDK `Operation` per call (the crate's shared core), over the AWS JSON 1.1
//! protocol: `POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target:
//! AWSGlue.<Action>`, the request's members as a JSON object, the answer's likewise.

use std::collections::BTreeMap;
use std::fmt::Debug;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::body::SdkBody;
use aws_types::sdk_config::SdkConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{Error, GlueError};
use super::types::{Database, DatabaseInput, Table, TableInput};
use crate::service::{self, Service};

/// Glue to the SDK's runtime: signing name, service id (`AWS_ENDPOINT_URL_GLUE`), endpoint host.
const GLUE: Service = Service {
    signing_name: "glue",
    service_id: "Glue",
    endpoint_prefix: "glue",
};

/// The JSON 1.1 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A Glue client for one region and set of credentials. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Glue {
    client: service::Client,
}

// The requests' and answers' members (the Glue API reference's names).

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateDatabase<'a> {
    database_input: &'a DatabaseInput,
    tags: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ByName<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TableByName<'a> {
    database_name: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WithTableInput<'a> {
    pub database_name: &'a str,
    pub table_input: &'a TableInput,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetTables<'a> {
    database_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ByArn<'a> {
    resource_arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagResource<'a> {
    resource_arn: &'a str,
    tags_to_add: &'a BTreeMap<String, String>,
}

/// An answer whose members flowlogs does not read (`{}`).
#[derive(Debug, Default, Deserialize)]
struct Empty {}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetDatabaseOutput {
    database: Option<Database>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTableOutput {
    table: Option<Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTablesOutput {
    #[serde(default)]
    table_list: Option<Vec<Table>>,
    next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTagsOutput {
    tags: Option<BTreeMap<String, String>>,
}

impl Glue {
    /// A client with everything the config says: region, endpoint, credentials, HTTP client,
    /// retry and timeout settings, sleep and time source.
    pub fn new(config: &SdkConfig) -> Glue {
        Glue {
            client: service::Client::new(GLUE, config),
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

    /// Any action: its request's members in (a JSON object), its answer's out.
    async fn call<O>(&self, action: &str, input: &impl Serialize) -> Result<O, Error>
    where
        O: DeserializeOwned + Debug + Send + Sync + 'static,
    {
        let body = serde_json::to_string(input).map_err(SdkError::construction_failure)?;
        let target = format!("AWSGlue.{action}");
        self.client
            .operation(
                action,
                move |body: String| request(&target, body),
                answer::<O>,
            )
            .invoke(body)
            .await
    }

    /// Creates a database with these tags (CreateDatabase).
    pub async fn create_database(
        &self,
        input: &DatabaseInput,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let request = CreateDatabase {
            database_input: input,
            tags,
        };
        self.call::<Empty>("CreateDatabase", &request)
            .await
            .map(|_| ())
    }

    /// The database `name` (GetDatabase); `EntityNotFoundException` when there is none.
    pub async fn get_database(&self, name: &str) -> Result<Option<Database>, Error> {
        let out: GetDatabaseOutput = self.call("GetDatabase", &ByName { name }).await?;
        Ok(out.database)
    }

    /// Drops the database `name` and every table in it (DeleteDatabase).
    pub async fn delete_database(&self, name: &str) -> Result<(), Error> {
        self.call::<Empty>("DeleteDatabase", &ByName { name })
            .await
            .map(|_| ())
    }

    /// Creates a table in `database` (CreateTable).
    pub async fn create_table(&self, database: &str, input: &TableInput) -> Result<(), Error> {
        let request = WithTableInput {
            database_name: database,
            table_input: input,
        };
        self.call::<Empty>("CreateTable", &request)
            .await
            .map(|_| ())
    }

    /// The table `database`.`name` (GetTable); `EntityNotFoundException` when it or its database
    /// is not there.
    pub async fn get_table(&self, database: &str, name: &str) -> Result<Option<Table>, Error> {
        let request = TableByName {
            database_name: database,
            name,
        };
        let out: GetTableOutput = self.call("GetTable", &request).await?;
        Ok(out.table)
    }

    /// Every table of `database`, all pages (GetTables, `NextToken`).
    pub async fn get_tables(&self, database: &str) -> Result<Vec<Table>, Error> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = GetTables {
                database_name: database,
                next_token: token.as_deref(),
            };
            let out: GetTablesOutput = self.call("GetTables", &request).await?;
            found.extend(out.table_list.unwrap_or_default());
            match out.next_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Rewrites the definition of the table `input.name` in `database` (UpdateTable).
    pub async fn update_table(&self, database: &str, input: &TableInput) -> Result<(), Error> {
        let request = WithTableInput {
            database_name: database,
            table_input: input,
        };
        self.call::<Empty>("UpdateTable", &request)
            .await
            .map(|_| ())
    }

    /// Drops the table's definition (DeleteTable); the data it reads is not touched.
    pub async fn delete_table(&self, database: &str, name: &str) -> Result<(), Error> {
        let request = TableByName {
            database_name: database,
            name,
        };
        self.call::<Empty>("DeleteTable", &request)
            .await
            .map(|_| ())
    }

    /// The tags of the resource `arn` (GetTags).
    pub async fn get_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, Error> {
        let out: GetTagsOutput = self.call("GetTags", &ByArn { resource_arn: arn }).await?;
        Ok(out.tags.unwrap_or_default())
    }

    /// Adds or overwrites tags on the resource `arn` (TagResource).
    pub async fn tag_resource(
        &self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let request = TagResource {
            resource_arn: arn,
            tags_to_add: tags,
        };
        self.call::<Empty>("TagResource", &request)
            .await
            .map(|_| ())
    }
}

/// A JSON 1.1 request: `POST /` with the target header and the members as JSON.
pub(crate) fn request(target: &str, body: String) -> Result<HttpRequest, BoxError> {
    let mut request = HttpRequest::new(SdkBody::from(body));
    request.set_method("POST")?;
    request.set_uri("/")?;
    request.headers_mut().insert("content-type", CONTENT_TYPE);
    request
        .headers_mut()
        .insert("x-amz-target", target.to_string());
    Ok(request)
}

/// A JSON 1.1 answer: a 2xx's body as `O` (an empty body as `{}`), anything else Glue's error.
// The orchestrator's deserializer signature: its error type is not ours to box.
#[allow(clippy::result_large_err)]
fn answer<O: DeserializeOwned>(response: &HttpResponse) -> Result<O, OrchestratorError<GlueError>> {
    let status = response.status().as_u16();
    let body = service::body(response)?;
    if !(200..300).contains(&status) {
        let headers = response.headers();
        return Err(OrchestratorError::operation(GlueError::from_answer(
            status,
            headers.get("x-amzn-errortype"),
            headers.get("x-amzn-requestid"),
            body,
        )));
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| OrchestratorError::response(e.into()))
}

#[cfg(test)]
mod tests;
