"""Lambda fixes (moto's model; the router runs the function itself, devstack/lambda_runtime.py)."""

from __future__ import annotations

from fixes.registry import fix

MOTO = "5.2.5"


@fix("lambda-event-invoke-config-replaces", "lambda", MOTO,
     "PutFunctionEventInvokeConfig replaces the function's config (Lambda API reference, "
     "PutFunctionEventInvokeConfig: an existing configuration is overwritten); moto appends it and answers the first one ever "
     "put, so a changed retry count or destination never shows")
def event_invoke_config_replaces() -> None:
    from moto.awslambda.models import EventInvokeConfig, LambdaBackend

    def put_function_event_invoke_config(self, function_name, config):
        fn = self.get_function(function_name)
        event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
        fn.event_invoke_config = [event_config]
        return event_config.response()

    LambdaBackend.put_function_event_invoke_config = put_function_event_invoke_config
