//! The S3 event notification (`{"Records": [...]}`), read and written by one type: the
//! forwarder reads it, and the deployer's backfill and verify canary write the event S3 would
//! send for an object, so the three cannot drift apart.
//!
//! Every field is optional when read (a hand-made replay sends only `s3.bucket.name` and
//! `s3.object.key`), unknown fields are ignored, and fields left `None` are not written. The
//! shape is the one of the S3 user guide, "Event message structure" (event version 2.1).

use serde::{Deserialize, Serialize};

/// An S3 event notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Event {
    #[serde(rename = "Records")]
    pub records: Vec<EventRecord>,
}

/// One record of an event: one object created (or removed, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_identity: Option<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<RequestParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_elements: Option<ResponseElements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Entity>,
}

/// `userIdentity` and `ownerIdentity`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
// Read leniently: a field S3 leaves out (or a test's `{}`) is empty, not a refused record.
#[serde(default)]
pub struct Identity {
    pub principal_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(default)]
pub struct RequestParameters {
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseElements {
    #[serde(rename = "x-amz-request-id")]
    pub request_id: String,
    #[serde(rename = "x-amz-id-2")]
    pub id_2: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Entity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_schema_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<S3Bucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<S3Object>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Bucket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_identity: Option<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Object {
    /// URL-encoded as S3 writes it (a space as `+`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(rename = "eTag", default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
}

/// The object a synthesized `ObjectCreated:Put` event names, and who says so.
#[derive(Debug, Clone)]
pub struct ObjectCreated<'a> {
    pub bucket: &'a str,
    /// The key URL-encoded as S3 writes it in events.
    pub encoded_key: &'a str,
    pub size: u64,
    pub region: &'a str,
    /// The `principalId` and `configurationId` written (`flowlogs-backfill`, ...).
    pub sender: &'a str,
}

impl S3Event {
    /// The event S3 sends when the object is created: one `ObjectCreated:Put` record.
    pub fn object_created(o: &ObjectCreated<'_>) -> S3Event {
        let who = || {
            Some(Identity {
                principal_id: o.sender.to_string(),
            })
        };
        S3Event {
            records: vec![EventRecord {
                event_version: Some("2.1".into()),
                event_source: Some("aws:s3".into()),
                aws_region: Some(o.region.into()),
                event_name: Some("ObjectCreated:Put".into()),
                user_identity: who(),
                s3: Some(S3Entity {
                    s3_schema_version: Some("1.0".into()),
                    configuration_id: Some(o.sender.into()),
                    bucket: Some(S3Bucket {
                        name: Some(o.bucket.into()),
                        owner_identity: None,
                        arn: Some(format!("arn:aws:s3:::{}", o.bucket)),
                    }),
                    object: Some(S3Object {
                        key: Some(o.encoded_key.into()),
                        size: Some(i64::try_from(o.size).unwrap_or(i64::MAX)),
                        ..S3Object::default()
                    }),
                }),
                ..EventRecord::default()
            }],
        }
    }

    /// The event as JSON.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an S3 event is plain data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_synthesized_event_reads_back_the_same() {
        let e = S3Event::object_created(&ObjectCreated {
            bucket: "b",
            encoded_key: "x+y.log.gz",
            size: 42,
            region: "us-east-1",
            sender: "flowlogs-backfill",
        });
        let v = e.to_value();
        let r = &v["Records"][0];
        assert_eq!(r["eventName"], "ObjectCreated:Put");
        assert_eq!(r["awsRegion"], "us-east-1");
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::b");
        assert_eq!(r["s3"]["object"]["key"], "x+y.log.gz");
        assert_eq!(r["s3"]["object"]["size"], 42);
        assert!(r.get("eventTime").is_none() && r["s3"]["object"].get("eTag").is_none());
        assert_eq!(serde_json::from_value::<S3Event>(v).unwrap(), e);
    }

    #[test]
    fn an_event_as_s3_sends_it_reads_every_field() {
        // The example of the S3 user guide's "Event message structure", trimmed.
        let v = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "172.16.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
                "bucket": {"name": "amzn-s3-demo-bucket", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::amzn-s3-demo-bucket"},
                "object": {"key": "HappyFace.jpg", "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko", "sequencer": "0055AED6DCD90281E5"}},
            "glacierEventData": {}
        }]});
        let e: S3Event = serde_json::from_value(v).unwrap();
        let r = &e.records[0];
        let s3 = r.s3.as_ref().unwrap();
        let object = s3.object.as_ref().unwrap();
        assert_eq!(r.event_time.as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(
            s3.bucket.as_ref().unwrap().name.as_deref(),
            Some("amzn-s3-demo-bucket")
        );
        assert_eq!(
            (object.key.as_deref(), object.size),
            (Some("HappyFace.jpg"), Some(1024))
        );
        assert_eq!(
            object.e_tag.as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(
            r.response_elements.as_ref().unwrap().request_id,
            "C3D13FE58DE4C810"
        );
    }

    #[test]
    fn empty_identity_request_and_response_parts_still_name_the_object() {
        // S3 and the emulators send these parts empty; the object is what matters.
        let v = json!({"Records": [{
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "userIdentity": {}, "requestParameters": {}, "responseElements": {},
            "s3": {"bucket": {"name": "b", "ownerIdentity": {}}, "object": {"key": "k.log.gz", "size": 3}}
        }]});
        let e: S3Event = serde_json::from_value(v).unwrap();
        let object = e.records[0].s3.as_ref().unwrap().object.as_ref().unwrap();
        assert_eq!(object.key.as_deref(), Some("k.log.gz"));
        assert_eq!(
            e.records[0].response_elements,
            Some(ResponseElements::default())
        );
    }
}
