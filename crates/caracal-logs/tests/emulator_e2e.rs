//! End to end against the emulator (moto on 127.0.0.1): objects in a bucket, their S3
//! notifications on SQS (plain and SNS-wrapped), `poll` processes them into Parquet
//! partitions, deletes their messages, and keeps the message of a missing object. A sources
//! config routes two key prefixes to two log types; an object under no prefix is kept too.

mod common;

use std::io::Write;

use caracal_aws::Purpose;
use caracal_logs::poll::{PollOptions, poll};
use caracal_logs::s3::{S3Store, SqsQueue};
use caracal_logs::{EventSink, LakeConfig, LakeWriter, LocalLake, PARSERS, Router, SourcesFile};
use caracal_testkit::Emulator;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in memory");
    enc.finish().expect("in memory")
}

/// S3 and SQS clients of the emulator's home region, with a bucket named `logs`.
async fn clients(emulator: &Emulator) -> (aws_sdk_s3::Client, aws_sdk_sqs::Client) {
    let aws = emulator.aws().await.expect("aws config");
    let session = aws.session(None, Purpose::Scan).await.expect("session");
    let clients = session.home();
    let (s3, sqs) = (clients.s3(), clients.sqs());
    s3.create_bucket().bucket("logs").send().await.expect("bucket");
    (s3, sqs)
}

fn notification(bucket: &str, key: &str) -> String {
    serde_json::json!({"Records": [{
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}}
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notified_objects_land_in_the_lake_and_only_their_messages_are_deleted() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let (s3, sqs) = clients(&emulator).await;
    let trail =
        std::fs::read(common::data("AWS.CloudTrail/stratus_aws.execution.ssm-start-session.json"))
            .expect("sample");
    let trail_events = {
        let v: serde_json::Value = serde_json::from_slice(&trail).expect("json");
        v.as_array().map(Vec::len).unwrap_or_default() as u64
    };
    let records = format!("{{\"Records\":{}}}", String::from_utf8_lossy(&trail));
    let flow =
        std::fs::read(common::data("AWS.VPCFlow/elastic-integrations_test-extra-samples.log"))
            .expect("sample");
    let objects = [
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/31/trail file.json.gz",
            gzip(records.as_bytes()),
        ),
        ("vpcflow/2016/flow.log", flow.clone()),
        ("unconfigured/flow.log", flow),
    ];
    for (key, body) in &objects {
        s3.put_object()
            .bucket("logs")
            .key(*key)
            .body(body.clone().into())
            .send()
            .await
            .expect("put");
    }

    let queue_url = sqs
        .create_queue()
        .queue_name("log-notes")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    // The key as S3 writes it in notifications: form-encoded.
    let encoded = objects[0].0.replace(' ', "+");
    let sns = serde_json::json!({"Type": "Notification", "Message": notification("logs", "vpcflow/2016/flow.log")});
    for body in [
        notification("logs", &encoded),
        sns.to_string(),
        notification("logs", "vpcflow/missing/object.log"),
        notification("logs", "unconfigured/flow.log"),
    ] {
        sqs.send_message().queue_url(&queue_url).message_body(body).send().await.expect("send");
    }

    let lake_dir = tempfile::tempdir().expect("tempdir");
    let mut lake = LakeWriter::new(LocalLake::new(lake_dir.path()), LakeConfig::default());
    // Each prefix allows only its own type: a VPC Flow file under AWSLogs/ would be
    // unclassified, so the counts below show the routing.
    let sources = SourcesFile::parse(
        r#"
sources:
  - id: s3-logs
    label: Log bucket
    bucket: logs
    prefixes:
      - prefix: AWSLogs/
        log_types: [AWS.CloudTrail]
      - prefix: vpcflow/
        log_types: [AWS.VPCFlow]
"#,
        false,
        "sources.yml",
        PARSERS,
    )
    .expect("sources");
    let mut router = Router::from_sources(&sources, PARSERS).expect("router");
    let options =
        PollOptions { visibility_timeout: 60, until_empty: true, ..PollOptions::default() };
    let outcome = poll(
        &mut router,
        &S3Store::new(s3.clone()),
        &SqsQueue::new(sqs.clone(), &queue_url),
        &options,
        &mut lake,
    )
    .await
    .expect("poll");
    lake.flush().expect("flush");

    assert_eq!(outcome.deleted, 2);
    assert_eq!(outcome.failed.len(), 2);
    assert!(
        outcome
            .failed
            .iter()
            .any(|f| f.contains("s3://logs/vpcflow/missing/object.log does not exist")),
        "{:?}",
        outcome.failed
    );
    assert!(
        outcome.failed.iter().any(|f| f.contains(
            "s3://logs/unconfigured/flow.log matches no prefix of the configured sources"
        )),
        "{:?}",
        outcome.failed
    );
    assert_eq!(outcome.report.errors, 0);
    assert_eq!(outcome.report.by_type["AWS.CloudTrail"].events, trail_events);
    assert_eq!(outcome.report.by_type["AWS.VPCFlow"].events, 7);
    assert_eq!(outcome.report.by_type.len(), 2, "{:?}", outcome.report.by_type);

    // The missing and the unrouted objects' messages are still on the queue (hidden until its timeout).
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .expect("attributes");
    let attr = |name: &str| -> u64 {
        attrs
            .attributes()
            .and_then(|a| {
                a.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v.parse().unwrap_or(0))
            })
            .unwrap_or(0)
    };
    assert_eq!(
        attr("ApproximateNumberOfMessages") + attr("ApproximateNumberOfMessagesNotVisible"),
        2
    );

    // The partitions read back with every event.
    let keys = lake.written().to_vec();
    assert!(
        keys.iter().any(|k| k.starts_with("aws_cloudtrail/year=2024/month=08/day=01/")),
        "{keys:?}"
    );
    assert!(keys.iter().any(|k| k.starts_with("aws_vpcflow/year=")), "{keys:?}");
    let rows: usize = keys
        .iter()
        .flat_map(|k| {
            let file = std::fs::File::open(lake_dir.path().join(k)).expect("file");
            ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .build()
                .expect("reader")
        })
        .map(|b| b.expect("batch").num_rows())
        .sum();
    assert_eq!(rows as u64, trail_events + 7);
}

/// A sink that, on its first event, outlasts the queue's visibility timeout and then
/// looks at the queue as a second consumer would.
struct OutlastsTheTimeout {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    stall: std::time::Duration,
    /// Messages the second consumer received, once it looked.
    seen_by_second_consumer: Option<usize>,
}

impl EventSink for OutlastsTheTimeout {
    fn accept(&mut self, _event: caracal_logs::Event) -> Result<(), caracal_logs::Error> {
        if self.seen_by_second_consumer.is_none() {
            std::thread::sleep(self.stall);
            // Sinks run inside block_in_place, so waiting on the runtime here is allowed.
            let received = tokio::runtime::Handle::current()
                .block_on(
                    self.sqs
                        .receive_message()
                        .queue_url(&self.queue_url)
                        .visibility_timeout(0)
                        .wait_time_seconds(0)
                        .send(),
                )
                .expect("receive");
            self.seen_by_second_consumer = Some(received.messages().len());
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), caracal_logs::Error> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_stays_hidden_while_its_object_takes_longer_than_the_visibility_timeout() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let (s3, sqs) = clients(&emulator).await;
    let flow =
        std::fs::read(common::data("AWS.VPCFlow/elastic-integrations_test-extra-samples.log"))
            .expect("sample");
    s3.put_object()
        .bucket("logs")
        .key("vpcflow/flow.log")
        .body(flow.into())
        .send()
        .await
        .expect("put");
    let queue_url = sqs
        .create_queue()
        .queue_name("slow-notes")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body(notification("logs", "vpcflow/flow.log"))
        .send()
        .await
        .expect("send");

    // Processing stalls for well past the 3 s timeout; without the heartbeat the message
    // would be visible again when the second consumer looks.
    let mut sink = OutlastsTheTimeout {
        sqs: sqs.clone(),
        queue_url: queue_url.clone(),
        stall: std::time::Duration::from_secs(5),
        seen_by_second_consumer: None,
    };
    let mut router: Router<'_> = caracal_logs::Processor::new(
        PARSERS.to_vec(),
        caracal_logs::SourceInfo::new("s3-logs", "Log bucket"),
    )
    .into();
    let options =
        PollOptions { visibility_timeout: 3, until_empty: true, ..PollOptions::default() };
    let outcome = poll(
        &mut router,
        &S3Store::new(s3.clone()),
        &SqsQueue::new(sqs.clone(), &queue_url),
        &options,
        &mut sink,
    )
    .await
    .expect("poll");

    assert_eq!(sink.seen_by_second_consumer, Some(0), "the message was handed out twice");
    assert_eq!(outcome.deleted, 1);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(outcome.report.by_type["AWS.VPCFlow"].events, 7);
}
