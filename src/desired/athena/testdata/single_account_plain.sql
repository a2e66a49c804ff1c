CREATE EXTERNAL TABLE IF NOT EXISTS `flowlogs`.`prod_vpc_flow_logs` (
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
  `log_status` string
)
PARTITIONED BY (
  `day` string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES (
  'field.delim' = ' ',
  'serialization.format' = ' '
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/123456789012/vpcflowlogs/eu-west-1/'
TBLPROPERTIES (
  'classification' = 'csv',
  'flowlogs:stack' = 'prod-vpc',
  'managed-by' = 'flowlogs',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'projection.day.range' = '2026/11/29,NOW',
  'projection.day.type' = 'date',
  'projection.enabled' = 'true',
  'skip.header.line.count' = '1',
  'storage.location.template' = 's3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/123456789012/vpcflowlogs/eu-west-1/${day}/'
)

-- flowlogs prod-vpc: top talkers by bytes
SELECT "srcaddr", "dstaddr", SUM("bytes") AS total_bytes, SUM("packets") AS total_packets
FROM "flowlogs"."prod_vpc_flow_logs"
WHERE "day" >= date_format(current_date - interval '7' day, '%Y/%m/%d')
GROUP BY "srcaddr", "dstaddr"
ORDER BY total_bytes DESC
LIMIT 25

-- flowlogs prod-vpc: rejected traffic by source and port
SELECT "srcaddr", "dstport", "protocol", COUNT(*) AS flows, SUM("packets") AS total_packets
FROM "flowlogs"."prod_vpc_flow_logs"
WHERE "day" >= date_format(current_date - interval '7' day, '%Y/%m/%d')
  AND "action" = 'REJECT'
GROUP BY "srcaddr", "dstport", "protocol"
ORDER BY flows DESC
LIMIT 25

-- flowlogs prod-vpc: traffic per interface over time
SELECT "interface_id", date_trunc('hour', from_unixtime("start")) AS hour_start, SUM("bytes") AS total_bytes, SUM("packets") AS total_packets
FROM "flowlogs"."prod_vpc_flow_logs"
WHERE "day" >= date_format(current_date - interval '7' day, '%Y/%m/%d')
GROUP BY 1, 2
ORDER BY hour_start, "interface_id"
