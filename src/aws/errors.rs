//! Named predicates over AWS SDK errors. The SDK's typed accessors come first (`is_not_found`,
//! `is_already_there`, one trait implemented per operation error); where AWS tells only through an
//! error code the SDK does not model, or only through a message (IAM propagation, destination
//! validation), that match lives here, in one named function, and nowhere else.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// The AWS error code of an SDK error, when the service sent one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(|e| e.code())
}

/// The AWS error message of an SDK error, when the service sent one.
pub fn message<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(|e| e.message())
}

fn code_and_message<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> (&str, &str) {
    (
        code(err).unwrap_or_default(),
        message(err).unwrap_or_default(),
    )
}

/// The request never got an answer: no connection (refused, DNS, proxy, a TLS handshake the
/// client refused) or no response in time. Nothing the credentials or the call could change.
pub fn is_unreachable<E, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    )
}

/// An operation error that can say "the resource is not there" through the SDK's typed accessor.
pub trait NotFound {
    fn not_found(&self) -> bool;
}

/// An operation error that can say "it exists already (and is ours to keep)" through a typed accessor.
pub trait AlreadyThere {
    fn already_there(&self) -> bool;
}

macro_rules! typed {
    ($trait:ident :: $method:ident { $($error:ty => $accessor:ident,)* }) => {
        $(impl $trait for $error {
            fn $method(&self) -> bool {
                self.$accessor()
            }
        })*
    };
}

typed!(NotFound::not_found {
    aws_sdk_s3::operation::head_bucket::HeadBucketError => is_not_found,
    aws_sdk_iam::operation::get_role::GetRoleError => is_no_such_entity_exception,
    aws_sdk_iam::operation::list_role_policies::ListRolePoliciesError => is_no_such_entity_exception,
    aws_sdk_iam::operation::delete_role::DeleteRoleError => is_no_such_entity_exception,
    aws_sdk_lambda::operation::get_function::GetFunctionError => is_resource_not_found_exception,
    aws_sdk_lambda::operation::get_policy::GetPolicyError => is_resource_not_found_exception,
    aws_sdk_lambda::operation::delete_function::DeleteFunctionError => is_resource_not_found_exception,
    aws_sdk_lambda::operation::remove_permission::RemovePermissionError => is_resource_not_found_exception,
    aws_sdk_lambda::operation::get_function_event_invoke_config::GetFunctionEventInvokeConfigError => is_resource_not_found_exception,
    aws_sdk_lambda::operation::delete_function_event_invoke_config::DeleteFunctionEventInvokeConfigError => is_resource_not_found_exception,
    aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamError => is_resource_not_found_exception,
    aws_sdk_firehose::operation::delete_delivery_stream::DeleteDeliveryStreamError => is_resource_not_found_exception,
    aws_sdk_cloudwatchlogs::operation::delete_log_group::DeleteLogGroupError => is_resource_not_found_exception,
    aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError => is_resource_not_found_exception,
    aws_sdk_secretsmanager::operation::delete_secret::DeleteSecretError => is_resource_not_found_exception,
});

// Glue's client has one error type for every action: not found and already there by its code.
typed!(NotFound::not_found {
    flowlogs_aws_lite::glue::GlueError => is_entity_not_found,
});

typed!(AlreadyThere::already_there {
    aws_sdk_s3::operation::create_bucket::CreateBucketError => is_bucket_already_owned_by_you,
    aws_sdk_iam::operation::create_role::CreateRoleError => is_entity_already_exists_exception,
    aws_sdk_lambda::operation::create_function::CreateFunctionError => is_resource_conflict_exception,
    aws_sdk_firehose::operation::create_delivery_stream::CreateDeliveryStreamError => is_resource_in_use_exception,
    aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError => is_resource_already_exists_exception,
    aws_sdk_cloudwatchlogs::operation::create_log_stream::CreateLogStreamError => is_resource_already_exists_exception,
    flowlogs_aws_lite::glue::GlueError => is_already_exists,
});

/// CreateSecret on a name whose secret is still being deleted (AWS deletes asynchronously, even
/// with ForceDeleteWithoutRecovery). AWS answers `InvalidRequestException` with either "You can't
/// create this secret because a secret with this name is already scheduled for deletion." or
/// "You can’t perform this operation on the secret because it was deleted." (with a curly
/// apostrophe; AWS-FACTS.md "Secrets Manager", terraform-provider-aws retries both).
pub fn is_secret_name_being_deleted<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    let (code, message) = code_and_message(err);
    code == "InvalidRequestException"
        && (message.contains("already scheduled for deletion")
            || message.contains("because it was deleted"))
}

/// The resource the call named does not exist (a typed answer of the service).
pub fn is_not_found<E: NotFound, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().is_some_and(NotFound::not_found)
}

/// What the call would create exists already.
pub fn is_already_there<E: AlreadyThere, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .is_some_and(AlreadyThere::already_there)
}

/// Firehose refuses to delete (or change) a stream that is still being created or updated.
pub fn is_stream_busy<R>(
    err: &SdkError<
        aws_sdk_firehose::operation::delete_delivery_stream::DeleteDeliveryStreamError,
        R,
    >,
) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.is_resource_in_use_exception())
}

/// S3 answers a read of a bucket setting that was never made with an error code of its own, which
/// the SDK does not model: no tags, no policy, no public access block, no encryption, no lifecycle.
pub fn is_unset_bucket_setting<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        code(err),
        Some(
            "NoSuchTagSet"
                | "NoSuchTagSetError"
                | "NoSuchBucketPolicy"
                | "NoSuchPublicAccessBlockConfiguration"
                | "ServerSideEncryptionConfigurationNotFoundError"
                | "NoSuchLifecycleConfiguration"
        )
    )
}

/// `NoSuchBucket` on a call other than HeadBucket (the SDK models it on a few operations only).
/// Right after CreateBucket, AWS may still answer so for about a minute.
pub fn is_no_such_bucket<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    code(err) == Some("NoSuchBucket")
}

/// EC2 tells a flow log already gone only by its code.
pub fn is_flow_log_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    code(err) == Some("InvalidFlowLogId.NotFound")
}

/// CreateFunction / UpdateFunctionConfiguration just after the role was made or changed: Lambda
/// cannot assume it yet. AWS tells only through the message (terraform-provider-aws retries these).
pub fn is_role_not_yet_assumable_by_lambda<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
) -> bool {
    let (code, message) = code_and_message(err);
    code == "InvalidParameterValueException"
        && [
            "The role defined for the function cannot be assumed by Lambda",
            "cannot be assumed by Lambda",
            "The provided execution role does not have permissions",
        ]
        .iter()
        .any(|m| message.contains(m))
}

/// CreateDeliveryStream / UpdateDestination just after the role was made or changed: Firehose
/// cannot assume it or use it yet (terraform-provider-aws, firehose `delivery_stream.go`).
pub fn is_role_not_yet_assumable_by_firehose<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
) -> bool {
    let (code, message) = code_and_message(err);
    code == "InvalidArgumentException"
        && [
            "Firehose is unable to assume role",
            "is not authorized to perform",
            "Access was denied",
            "Verify that the IAM role has access",
            "The security token included in the request is invalid",
        ]
        .iter()
        .any(|m| message.contains(m))
}

/// AddPermission just after the function was made: the principal is not accepted yet.
pub fn is_principal_not_yet_valid<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    let (code, message) = code_and_message(err);
    code == "InvalidParameterValueException"
        && message.contains("The provided principal was invalid")
}

/// Lambda refuses a change while the function is still being created or updated (state Pending, or
/// LastUpdateStatus InProgress): `ResourceConflictException`, "The operation cannot be performed
/// at this time. An update is in progress for resource: ...". Transient: wait and retry.
pub fn is_update_in_progress<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    let (code, message) = code_and_message(err);
    code == "ResourceConflictException"
        && (message.contains("An update is in progress")
            || message.contains("The operation cannot be performed at this time"))
}

/// AddPermission's other `ResourceConflictException`: "The statement id (...) provided already
/// exists". Whether that is ours, unchanged, is for the caller to read back.
pub fn is_statement_id_taken<R>(
    err: &SdkError<aws_sdk_lambda::operation::add_permission::AddPermissionError, R>,
) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.is_resource_conflict_exception())
        && !is_update_in_progress(err)
}

/// PutFunctionEventInvokeConfig checks that the function's role may write to the destination; just
/// after PutRolePolicy that check can fail for a while (IAM propagation): InvalidParameterValue-
/// Exception, "The function execution role does not have permissions to call ... on ...".
pub fn is_destination_permission_not_yet_granted<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
) -> bool {
    let (code, message) = code_and_message(err);
    code == "InvalidParameterValueException"
        && message.contains("does not have permissions to call")
}

/// PutBucketNotificationConfiguration test-sends to every destination of the configuration; just
/// after AddPermission that test can fail for a while.
pub fn is_destination_not_yet_valid<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    let (code, message) = code_and_message(err);
    code == "InvalidArgument"
        && message.contains("Unable to validate the following destination configurations")
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    use super::*;

    #[test]
    fn a_connection_or_tls_failure_is_unreachable_and_an_aws_answer_is_not() {
        let refused: SdkError<(), ()> =
            SdkError::dispatch_failure(ConnectorError::io("invalid peer certificate".into()));
        assert!(is_unreachable(&refused));
        let slow: SdkError<(), ()> = SdkError::timeout_error("no answer in 3.1 s");
        assert!(is_unreachable(&slow));
        let denied = generic(
            aws_sdk_lambda::operation::get_function::GetFunctionError::generic,
            "AccessDenied",
            "not authorized",
        );
        assert!(!is_unreachable(&denied));
    }

    /// An SDK error as the SDK builds it from a response with this code and message.
    fn generic<E>(make: fn(ErrorMetadata) -> E, code: &str, message: &str) -> SdkError<E, ()> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(make(meta), ())
    }

    fn lambda_invalid_parameter(
        message: &str,
    ) -> SdkError<aws_sdk_lambda::operation::create_function::CreateFunctionError, ()> {
        use aws_sdk_lambda::operation::create_function::CreateFunctionError;
        use aws_sdk_lambda::types::error::InvalidParameterValueException;
        let meta = aws_sdk_lambda::error::ErrorMetadata::builder()
            .code("InvalidParameterValueException")
            .message(message)
            .build();
        SdkError::service_error(
            CreateFunctionError::InvalidParameterValueException(
                InvalidParameterValueException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            (),
        )
    }

    fn firehose_invalid_argument(
        message: &str,
    ) -> SdkError<aws_sdk_firehose::operation::create_delivery_stream::CreateDeliveryStreamError, ()>
    {
        use aws_sdk_firehose::operation::create_delivery_stream::CreateDeliveryStreamError;
        use aws_sdk_firehose::types::error::InvalidArgumentException;
        let meta = aws_sdk_firehose::error::ErrorMetadata::builder()
            .code("InvalidArgumentException")
            .message(message)
            .build();
        SdkError::service_error(
            CreateDeliveryStreamError::InvalidArgumentException(
                InvalidArgumentException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            (),
        )
    }

    #[test]
    fn not_found_uses_the_typed_variant_of_each_operation() {
        use aws_sdk_iam::operation::get_role::GetRoleError;
        use aws_sdk_iam::types::error::NoSuchEntityException;
        use aws_sdk_lambda::operation::get_function::GetFunctionError;
        use aws_sdk_lambda::types::error::ResourceNotFoundException;
        use aws_sdk_s3::operation::head_bucket::HeadBucketError;
        use aws_sdk_s3::types::error::NotFound as S3NotFound;

        let role: SdkError<GetRoleError, ()> = SdkError::service_error(
            GetRoleError::NoSuchEntityException(NoSuchEntityException::builder().build()),
            (),
        );
        assert!(is_not_found(&role));
        let function: SdkError<GetFunctionError, ()> = SdkError::service_error(
            GetFunctionError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            ),
            (),
        );
        assert!(is_not_found(&function));
        let bucket: SdkError<HeadBucketError, ()> =
            SdkError::service_error(HeadBucketError::NotFound(S3NotFound::builder().build()), ());
        assert!(is_not_found(&bucket));
        // The same code in an unmodelled error is not the typed answer.
        let denied: SdkError<GetRoleError, ()> =
            generic(GetRoleError::generic, "AccessDenied", "not allowed");
        assert!(!is_not_found(&denied));
        let timeout: SdkError<GetRoleError, ()> = SdkError::timeout_error("slow");
        assert!(!is_not_found(&timeout));
    }

    fn add_permission_conflict(
        message: &str,
    ) -> SdkError<aws_sdk_lambda::operation::add_permission::AddPermissionError, ()> {
        use aws_sdk_lambda::operation::add_permission::AddPermissionError;
        use aws_sdk_lambda::types::error::ResourceConflictException;
        let meta = aws_sdk_lambda::error::ErrorMetadata::builder()
            .code("ResourceConflictException")
            .message(message)
            .build();
        SdkError::service_error(
            AddPermissionError::ResourceConflictException(
                ResourceConflictException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            (),
        )
    }

    #[test]
    fn add_permission_conflict_is_either_an_update_in_progress_or_a_taken_statement_id() {
        let busy = add_permission_conflict("The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:f");
        assert!(is_update_in_progress(&busy));
        assert!(!is_statement_id_taken(&busy));
        let taken = add_permission_conflict("The statement id (flowlogs-s-s3) provided already exists. Please provide a new statement id, or remove the existing statement.");
        assert!(is_statement_id_taken(&taken));
        assert!(!is_update_in_progress(&taken));
        // Neither is "already there" in the typed sense any more: the content has to be read back.
        let timeout: SdkError<aws_sdk_lambda::operation::add_permission::AddPermissionError, ()> =
            SdkError::timeout_error("slow");
        assert!(!is_statement_id_taken(&timeout) && !is_update_in_progress(&timeout));
    }

    #[test]
    fn already_there_uses_the_typed_variant() {
        use aws_sdk_iam::operation::create_role::CreateRoleError;
        use aws_sdk_iam::types::error::EntityAlreadyExistsException;
        let exists: SdkError<CreateRoleError, ()> = SdkError::service_error(
            CreateRoleError::EntityAlreadyExistsException(
                EntityAlreadyExistsException::builder().build(),
            ),
            (),
        );
        assert!(is_already_there(&exists));
        let limit: SdkError<CreateRoleError, ()> =
            generic(CreateRoleError::generic, "LimitExceeded", "too many roles");
        assert!(!is_already_there(&limit));
    }

    #[test]
    fn unset_bucket_settings_are_told_by_their_codes() {
        use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
        for code in [
            "NoSuchTagSet",
            "NoSuchBucketPolicy",
            "NoSuchPublicAccessBlockConfiguration",
            "ServerSideEncryptionConfigurationNotFoundError",
            "NoSuchLifecycleConfiguration",
        ] {
            let e: SdkError<GetBucketPolicyError, ()> =
                generic(GetBucketPolicyError::generic, code, "");
            assert!(is_unset_bucket_setting(&e), "{code}");
        }
        let e: SdkError<GetBucketPolicyError, ()> =
            generic(GetBucketPolicyError::generic, "AccessDenied", "");
        assert!(!is_unset_bucket_setting(&e));
    }

    #[test]
    fn no_such_bucket_is_told_by_its_code() {
        use aws_sdk_s3::operation::put_bucket_tagging::PutBucketTaggingError;
        let e: SdkError<PutBucketTaggingError, ()> = generic(
            PutBucketTaggingError::generic,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
        assert!(is_no_such_bucket(&e));
        let e: SdkError<PutBucketTaggingError, ()> =
            generic(PutBucketTaggingError::generic, "NoSuchTagSet", "");
        assert!(!is_no_such_bucket(&e));
    }

    #[test]
    fn a_flow_log_already_gone_is_told_by_its_code() {
        use flowlogs_aws_lite::ec2::Ec2Error;
        let e: SdkError<Ec2Error, ()> = SdkError::service_error(
            Ec2Error::new("InvalidFlowLogId.NotFound", "no such flow log"),
            (),
        );
        assert!(is_flow_log_not_found(&e));
        let e: SdkError<Ec2Error, ()> =
            SdkError::service_error(Ec2Error::new("UnauthorizedOperation", ""), ());
        assert!(!is_flow_log_not_found(&e));
    }

    #[test]
    fn lambda_role_propagation_is_told_by_its_message() {
        assert!(is_role_not_yet_assumable_by_lambda(
            &lambda_invalid_parameter(
                "The role defined for the function cannot be assumed by Lambda."
            )
        ));
        assert!(!is_role_not_yet_assumable_by_lambda(
            &lambda_invalid_parameter("Memory size must be a multiple of 1 MB")
        ));
    }

    #[test]
    fn firehose_role_propagation_is_told_by_any_of_its_messages() {
        for message in [
            "Firehose is unable to assume role arn:aws:iam::1:role/r. Please check the role provided.",
            "User: arn:aws:sts::1:assumed-role/r is not authorized to perform: s3:PutObject",
            "Access was denied when calling the destination",
            "Verify that the IAM role has access to the S3 bucket.",
            "The security token included in the request is invalid.",
        ] {
            assert!(
                is_role_not_yet_assumable_by_firehose(&firehose_invalid_argument(message)),
                "{message}"
            );
        }
        assert!(!is_role_not_yet_assumable_by_firehose(
            &firehose_invalid_argument("Url must start with https://")
        ));
        assert!(!is_role_not_yet_assumable_by_firehose(
            &firehose_invalid_argument("Bucket does not exist")
        ));
    }

    #[test]
    fn principal_propagation_is_told_by_its_message() {
        use aws_sdk_lambda::operation::add_permission::AddPermissionError;
        let e: SdkError<AddPermissionError, ()> = generic(
            AddPermissionError::generic,
            "InvalidParameterValueException",
            "The provided principal was invalid. Please check the principal and try again.",
        );
        assert!(is_principal_not_yet_valid(&e));
        let e: SdkError<AddPermissionError, ()> = generic(
            AddPermissionError::generic,
            "InvalidParameterValueException",
            "The statement id is too long",
        );
        assert!(!is_principal_not_yet_valid(&e));
    }

    #[test]
    fn destination_validation_is_told_by_its_message() {
        use aws_sdk_s3::operation::put_bucket_notification_configuration::PutBucketNotificationConfigurationError as E;
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidArgument",
            "Unable to validate the following destination configurations",
        );
        assert!(is_destination_not_yet_valid(&e));
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidArgument",
            "Configuration is ambiguously defined",
        );
        assert!(!is_destination_not_yet_valid(&e));
    }

    #[test]
    fn a_secret_name_still_being_deleted_is_told_by_its_message() {
        use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError as E;
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidRequestException",
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
        assert!(is_secret_name_being_deleted(&e));
        // the second message AWS gives, with its curly apostrophe
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidRequestException",
            "You can\u{2019}t perform this operation on the secret because it was deleted.",
        );
        assert!(is_secret_name_being_deleted(&e));
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidRequestException",
            "You can't perform this operation on the secret because it was marked for deletion.",
        );
        assert!(!is_secret_name_being_deleted(&e));
        let e: SdkError<E, ()> = generic(
            E::generic,
            "LimitExceededException",
            "scheduled for deletion",
        );
        assert!(!is_secret_name_being_deleted(&e));
    }

    #[test]
    fn a_stream_still_being_created_is_busy_by_the_typed_variant() {
        use aws_sdk_firehose::operation::delete_delivery_stream::DeleteDeliveryStreamError as E;
        use aws_sdk_firehose::types::error::ResourceInUseException;
        let busy: SdkError<E, ()> = SdkError::service_error(
            E::ResourceInUseException(ResourceInUseException::builder().build()),
            (),
        );
        assert!(is_stream_busy(&busy));
        let denied: SdkError<E, ()> = generic(E::generic, "AccessDeniedException", "not allowed");
        assert!(!is_stream_busy(&denied));
        let timeout: SdkError<E, ()> = SdkError::timeout_error("slow");
        assert!(!is_stream_busy(&timeout));
    }

    #[test]
    fn a_destination_permission_not_yet_granted_is_told_by_its_message() {
        use aws_sdk_lambda::operation::put_function_event_invoke_config::PutFunctionEventInvokeConfigError as E;
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidParameterValueException",
            "The function execution role does not have permissions to call PutObject on arn:aws:s3:::b",
        );
        assert!(is_destination_permission_not_yet_granted(&e));
        let e: SdkError<E, ()> = generic(
            E::generic,
            "InvalidParameterValueException",
            "The destination ARN arn:aws:s3:::b is invalid.",
        );
        assert!(!is_destination_permission_not_yet_granted(&e));
    }
}
