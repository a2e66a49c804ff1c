//! The event S3 sends through EventBridge (`detail-type: Object Created`, `source: aws.s3`), read
//! by the forwarder beside the S3 notification (`crate::s3_event`) and written by tests and the
//! local stack's checks, so the reader and what AWS sends cannot drift apart.
//!
//! The shape is the one of the S3 user guide, "EventBridge event message structure". Unlike the
//! S3 notification, whose key the guide's "Event message structure" says is URL-encoded, the
//! EventBridge page documents `detail.object.key` without any encoding (its example key, and
//! every field of "Event message detail field", are plain values): the key is the object's own
//! key, used as it comes.

use serde::{Deserialize, Serialize};

/// `source` of the events S3 sends to EventBridge.
pub const SOURCE: &str = "aws.s3";
/// `detail-type` of an object creation (PutObject, POST Object, CopyObject,
/// CompleteMultipartUpload: `detail.reason` says which).
pub const OBJECT_CREATED: &str = "Object Created";

/// An event as EventBridge delivers it to a target. Every field is optional when read;
/// unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBridgeEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(
        rename = "detail-type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub detail_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// `detail` of an S3 event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Object>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    /// For Object Created: `PutObject`, `POST Object`, `CopyObject` or `CompleteMultipartUpload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Object {
    /// The object's key as it is (not URL-encoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
}

impl EventBridgeEvent {
    /// Whether a payload is an EventBridge event (it has the envelope's `detail-type` or
    /// `source`) rather than an S3 notification.
    pub fn looks_like(event: &serde_json::Value) -> bool {
        event.get("detail-type").is_some() || event.get("source").is_some()
    }

    /// The Object Created event S3 sends through EventBridge for a PutObject of `key`.
    pub fn object_created(bucket: &str, key: &str, size: u64, region: &str) -> EventBridgeEvent {
        EventBridgeEvent {
            version: Some("0".into()),
            id: Some("00000000-0000-4000-8000-000000000000".into()),
            detail_type: Some(OBJECT_CREATED.into()),
            source: Some(SOURCE.into()),
            account: None,
            time: None,
            region: Some(region.into()),
            resources: vec![format!("arn:aws:s3:::{bucket}")],
            detail: Some(Detail {
                version: Some("0".into()),
                bucket: Some(Bucket {
                    name: Some(bucket.into()),
                }),
                object: Some(Object {
                    key: Some(key.into()),
                    size: Some(i64::try_from(size).unwrap_or(i64::MAX)),
                    ..Object::default()
                }),
                reason: Some("PutObject".into()),
                ..Detail::default()
            }),
        }
    }

    /// The event as JSON.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an EventBridge event is plain data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_example_of_the_s3_user_guide_reads_every_field() {
        // "EventBridge event message structure", Object created.
        let v = json!({
          "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
          "detail-type": "Object Created", "source": "aws.s3", "account": "111122223333",
          "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
          "resources": ["arn:aws:s3:::amzn-s3-demo-bucket1"],
          "detail": {"version": "0", "bucket": {"name": "amzn-s3-demo-bucket1"},
            "object": {"key": "example-key", "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
                       "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "sequencer": "617f08299329d189"},
            "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
            "source-ip-address": "1.2.3.4", "reason": "PutObject"}
        });
        assert!(EventBridgeEvent::looks_like(&v));
        let e: EventBridgeEvent = serde_json::from_value(v).unwrap();
        let detail = e.detail.as_ref().unwrap();
        let object = detail.object.as_ref().unwrap();
        assert_eq!(e.detail_type.as_deref(), Some(OBJECT_CREATED));
        assert_eq!(e.source.as_deref(), Some(SOURCE));
        assert_eq!(
            (object.key.as_deref(), object.size),
            (Some("example-key"), Some(5))
        );
        assert_eq!(
            object.version_id.as_deref(),
            Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e")
        );
        assert_eq!(detail.request_id.as_deref(), Some("N4N7GDK58NMKJ12R"));
        assert_eq!(detail.reason.as_deref(), Some("PutObject"));
    }

    #[test]
    fn a_synthesized_event_reads_back_the_same() {
        let e = EventBridgeEvent::object_created("b", "a b+c=d.log.gz", 42, "us-east-1");
        let v = e.to_value();
        assert_eq!(v["detail-type"], "Object Created");
        assert_eq!(v["detail"]["object"]["key"], "a b+c=d.log.gz");
        assert_eq!(v["resources"][0], "arn:aws:s3:::b");
        assert_eq!(serde_json::from_value::<EventBridgeEvent>(v).unwrap(), e);
    }
}
