//! The data lake in S3, against the emulator (moto on 127.0.0.1): events land as Parquet
//! objects under `<prefix>/<table>/year=/month=/day=/hour=/` that download and read back
//! with every row; a put that fails names the bucket and key, keeps the SDK's cause, and
//! nothing is reported as written.

mod common;

use caracal_aws::Purpose;
use caracal_logs::s3::S3Lake;
use caracal_logs::{EventSink, LakeConfig, LakeWriter, ObjectInfo, PARSERS, Processor, SourceInfo};
use caracal_testkit::Emulator;
use chrono::Utc;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const SAMPLES: [&str; 2] = [
    "AWS.CloudTrail/elastic-integrations_test-console-login-json.log",
    "AWS.VPCFlow/elastic-integrations_test-extra-samples.log",
];

/// Processes the samples into `lake`, returning the number of events.
fn process_samples(lake: &mut LakeWriter<S3Lake>) -> Result<u64, caracal_logs::Error> {
    let mut proc = Processor::new(PARSERS.to_vec(), SourceInfo::new("src-1", "Samples"));
    let mut total = 0;
    for file in SAMPLES {
        let bytes = std::fs::read(common::data(file)).expect("sample");
        let object = ObjectInfo { name: file.into(), reference_time: Utc::now() };
        total += proc.process(&object, &bytes[..], lake)?.events;
    }
    Ok(total)
}

async fn s3_client(emulator: &Emulator) -> aws_sdk_s3::Client {
    let aws = emulator.aws().await.expect("aws config");
    let session = aws.session(None, Purpose::Scan).await.expect("session");
    session.home().s3()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_land_as_parquet_objects_under_hive_partition_keys() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let s3 = s3_client(&emulator).await;
    s3.create_bucket().bucket("lake").send().await.expect("bucket");

    let mut lake =
        LakeWriter::new(S3Lake::new(s3.clone(), "lake", "/security/"), LakeConfig::default());
    let total = tokio::task::block_in_place(|| {
        let total = process_samples(&mut lake)?;
        lake.flush()?;
        Ok::<_, caracal_logs::Error>(total)
    })
    .expect("lake writes");
    assert!(!lake.written().is_empty());

    let listed =
        s3.list_objects_v2().bucket("lake").prefix("security/").send().await.expect("list");
    let mut keys: Vec<String> =
        listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
    keys.sort();
    let hive = regex::Regex::new(
        r"^security/aws_(cloudtrail|vpcflow)/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/[0-9a-z]+\.parquet$",
    )
    .expect("pattern");
    assert!(keys.iter().all(|k| hive.is_match(k)), "{keys:?}");
    // The console login of 2014-07-16 15:49:27 UTC and a flow of 2016-10-31 11:xx UTC.
    for partition in [
        "security/aws_cloudtrail/year=2014/month=07/day=16/hour=15/",
        "security/aws_vpcflow/year=2016/month=10/day=31/hour=11/",
    ] {
        assert!(keys.iter().any(|k| k.starts_with(partition)), "{partition} in {keys:?}");
    }
    // The writer reports lake-relative keys; the objects are those keys under the prefix.
    let mut written: Vec<String> = lake.written().iter().map(|k| format!("security/{k}")).collect();
    written.sort();
    assert_eq!(written, keys);

    let mut rows = 0;
    for key in &keys {
        let object = s3.get_object().bucket("lake").key(key).send().await.expect("get");
        let bytes = object.body.collect().await.expect("body").into_bytes();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .expect("a Parquet object")
            .build()
            .expect("reader");
        rows += reader.map(|b| b.expect("batch").num_rows()).sum::<usize>();
    }
    assert_eq!(rows as u64, total);
    assert!(total > 7, "both samples produced events: {total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_to_a_missing_bucket_is_an_error_naming_bucket_and_key_and_nothing_is_written() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let s3 = s3_client(&emulator).await;

    let mut lake =
        LakeWriter::new(S3Lake::new(s3, "no-such-bucket", "lake"), LakeConfig::default());
    let err = tokio::task::block_in_place(|| {
        process_samples(&mut lake)?;
        lake.flush()
    })
    .expect_err("the bucket does not exist");
    let message = err.to_string();
    assert!(matches!(err, caracal_logs::Error::Lake { .. }), "{err:?}");
    assert!(message.contains("s3://no-such-bucket/lake/aws_"), "{message}");
    assert!(message.contains(".parquet"), "{message}");
    assert!(message.contains("NoSuchBucket"), "the SDK's cause is kept: {message}");
    assert!(lake.written().is_empty(), "{:?}", lake.written());
}
