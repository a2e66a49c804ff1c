//! S3 object keys as S3 writes them in event notifications, and as it matches notification filter
//! values: each path segment form-URL-encoded (a space as `+`, `=` as `%3D`, other specials
//! percent-encoded), the `/` between segments kept. A filter prefix or suffix must be written in
//! this form to match (S3 user guide, "Configuring event notifications using object key name
//! filtering"); IAM and bucket-policy resources take the key as it is.

/// The key (or the part of one: a prefix, a suffix) as S3 encodes it in events and filters.
pub fn encode(key: &str) -> String {
    key.split('/')
        .map(|part| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_prefixes_and_spaces_are_encoded_as_s3_matches_them() {
        assert_eq!(
            encode("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"),
            "AWSLogs/aws-account-id%3D123456789012/aws-service%3Dvpcflowlogs/"
        );
        assert_eq!(encode("team logs/x y.log.gz"), "team+logs/x+y.log.gz");
        assert_eq!(encode("a+b&c"), "a%2Bb%26c");
    }

    #[test]
    fn plain_keys_are_unchanged() {
        let key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/x_fl-1.log.gz";
        assert_eq!(encode(key), key);
        assert_eq!(encode(".log.gz"), ".log.gz");
    }
}
