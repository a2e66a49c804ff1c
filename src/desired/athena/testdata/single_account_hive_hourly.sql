CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`vpc` (
  `version` int,
  `account_id` string,
  `interface_id` string,
  `srcaddr` string,
  `dstaddr` string,
  `srcport` int,
  `dstport` int,
  `protocol` bigint,
  `packets` bigint,
  `bytes` bigint,
  `start` bigint,
  `end` bigint,
  `action` string,
  `log_status` string,
  `vpc_id` string,
  `subnet_id` string,
  `instance_id` string,
  `tcp_flags` int,
  `type` string,
  `pkt_srcaddr` string,
  `pkt_dstaddr` string,
  `region` string,
  `az_id` string,
  `sublocation_type` string,
  `sublocation_id` string,
  `pkt_src_aws_service` string,
  `pkt_dst_aws_service` string,
  `flow_direction` string,
  `traffic_path` int,
  `ecs_cluster_arn` string,
  `ecs_cluster_name` string,
  `ecs_container_instance_arn` string,
  `ecs_container_instance_id` string,
  `ecs_container_id` string,
  `ecs_second_container_id` string,
  `ecs_service_name` string,
  `ecs_task_definition_arn` string,
  `ecs_task_arn` string,
  `ecs_task_id` string,
  `reject_reason` string
)
PARTITIONED BY (
  `year` string,
  `month` string,
  `day` string,
  `hour` string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
WITH SERDEPROPERTIES (
  'serialization.format' = '1'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'flowlogs:stack' = 'prod-vpc',
  'managed-by' = 'flowlogs',
  'projection.day.digits' = '2',
  'projection.day.range' = '1,31',
  'projection.day.type' = 'integer',
  'projection.enabled' = 'true',
  'projection.hour.digits' = '2',
  'projection.hour.range' = '0,23',
  'projection.hour.type' = 'integer',
  'projection.month.digits' = '2',
  'projection.month.range' = '1,12',
  'projection.month.type' = 'integer',
  'projection.year.format' = 'yyyy',
  'projection.year.interval' = '1',
  'projection.year.interval.unit' = 'YEARS',
  'projection.year.range' = '2026,NOW',
  'projection.year.type' = 'date',
  'storage.location.template' = 's3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=${year}/month=${month}/day=${day}/hour=${hour}/'
)

-- flowlogs prod-vpc: top talkers by bytes
SELECT "srcaddr", "dstaddr", SUM("bytes") AS total_bytes, SUM("packets") AS total_packets
FROM "analytics"."vpc"
WHERE "year" >= date_format(current_date - interval '7' day, '%Y')
  AND concat("year", '/', "month", '/', "day") >= date_format(current_date - interval '7' day, '%Y/%m/%d')
GROUP BY "srcaddr", "dstaddr"
ORDER BY total_bytes DESC
LIMIT 25

-- flowlogs prod-vpc: rejected traffic by source and port
SELECT "srcaddr", "dstport", "protocol", COUNT(*) AS flows, SUM("packets") AS total_packets
FROM "analytics"."vpc"
WHERE "year" >= date_format(current_date - interval '7' day, '%Y')
  AND concat("year", '/', "month", '/', "day") >= date_format(current_date - interval '7' day, '%Y/%m/%d')
  AND "action" = 'REJECT'
GROUP BY "srcaddr", "dstport", "protocol"
ORDER BY flows DESC
LIMIT 25

-- flowlogs prod-vpc: traffic by AWS service
SELECT "pkt_src_aws_service", "pkt_dst_aws_service", SUM("bytes") AS total_bytes
FROM "analytics"."vpc"
WHERE "year" >= date_format(current_date - interval '7' day, '%Y')
  AND concat("year", '/', "month", '/', "day") >= date_format(current_date - interval '7' day, '%Y/%m/%d')
  AND (COALESCE("pkt_src_aws_service", '-') <> '-' OR COALESCE("pkt_dst_aws_service", '-') <> '-')
GROUP BY "pkt_src_aws_service", "pkt_dst_aws_service"
ORDER BY total_bytes DESC
LIMIT 25

-- flowlogs prod-vpc: traffic per interface over time
SELECT "interface_id", date_trunc('hour', from_unixtime("start")) AS hour_start, SUM("bytes") AS total_bytes, SUM("packets") AS total_packets
FROM "analytics"."vpc"
WHERE "year" >= date_format(current_date - interval '7' day, '%Y')
  AND concat("year", '/', "month", '/', "day") >= date_format(current_date - interval '7' day, '%Y/%m/%d')
GROUP BY 1, 2
ORDER BY hour_start, "interface_id"
