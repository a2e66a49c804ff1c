"""Athena fixes: named-query calls moto does not implement. (moto's Athena runs no SQL:
StartQueryExecution "succeeds" at once having read nothing; that is not fixed here.)"""

from __future__ import annotations

import json

from fixes.registry import fix

MOTO = "5.2.5"


def named_query_json(nq) -> dict:
    return {"Name": nq.name, "Description": nq.description, "Database": nq.database,
            "QueryString": nq.query_string, "NamedQueryId": nq.id, "WorkGroup": nq.workgroup.name}


@fix("athena-named-queries", "athena", MOTO,
     "BatchGetNamedQuery lists an unknown id in UnprocessedNamedQueryIds and DeleteNamedQuery "
     "refuses one with InvalidRequestException (Athena API reference); moto 5.2.5 answers "
     "'action has not been implemented'")
def named_queries() -> None:
    from moto.athena import responses

    def batch_get_named_query(self):
        found, missing = [], []
        for query_id in self._get_param("NamedQueryIds") or []:
            nq = self.athena_backend.named_queries.get(query_id)
            if nq is None:
                missing.append({"NamedQueryId": query_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": "named query not found"})
            else:
                found.append(named_query_json(nq))
        return json.dumps({"NamedQueries": found, "UnprocessedNamedQueryIds": missing})

    def delete_named_query(self):
        query_id = self._get_param("NamedQueryId")
        if self.athena_backend.named_queries.pop(query_id, None) is None:
            return self.error(f"named query {query_id} not found", 400)
        return json.dumps({})

    responses.AthenaResponse.batch_get_named_query = batch_get_named_query
    responses.AthenaResponse.delete_named_query = delete_named_query
