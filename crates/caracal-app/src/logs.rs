//! Log use cases: read objects (local paths, S3 prefixes, or the S3 notifications of a
//! queue) through the classifier and parsers into the lake, with every record accounted.

use std::path::{Path, PathBuf};

use caracal_logs::poll::Message;
use caracal_logs::s3::{S3Lake, SqsQueue, parse_s3_url};
use caracal_logs::{
    Catalog, Discard, EventSink, LakeConfig, LakeWriter, LocalLake, Parser, PollOptions,
    PollOutcome, Processor, Report, Router, SourceInfo, SourcesFile, Tables, parse_notification,
    process_path,
};
use std::sync::Arc;

use caracal_detect::{Detector, RuleSource, Rules};
use serde::Serialize;
use tracing::warn;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::events::{MessagesHandled, PollFailed};
use crate::outputs::Outputs;
use crate::sources::SourceStores;

/// How logs are read and where they go.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Only try these log types (empty: every native, bundled and custom type).
    pub log_types: Vec<String>,
    /// Custom log types from YAML schema files.
    pub schemas: Vec<PathBuf>,
    /// A sources file mapping S3 key prefixes to log types and sources.
    pub sources: Option<PathBuf>,
    /// The lake: a folder or `s3://bucket/prefix`; `None` keeps no events.
    pub lake: Option<String>,
    /// `p_source_id` (and label) when no sources file routes the objects.
    pub source_id: String,
    /// Rule packs run on every event; `None` runs no rules.
    pub rules: Option<RuleSource>,
    /// Events per rule-engine batch (0: the configured `[rules] batch_size`).
    pub batch_size: usize,
}

impl LogOptions {
    fn sources_display(&self) -> String {
        self.sources.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
    }
}

/// The parsers of one configuration, loaded once: the native parsers, the bundled schemas
/// and the custom schema files of the options.
#[derive(Debug)]
pub struct LogPipeline {
    options: LogOptions,
    catalog: Catalog,
}

impl LogPipeline {
    /// Loads the custom schemas of `options`; a bad schema is an error naming the file.
    pub fn new(options: LogOptions) -> Result<Self> {
        let catalog =
            Catalog::load(&options.schemas).map_err(Error::logs("loading the log schemas"))?;
        Ok(Self { options, catalog })
    }

    /// Every log type of this configuration.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The options the pipeline was built from.
    pub fn options(&self) -> &LogOptions {
        &self.options
    }

    fn all_parsers(&self) -> Vec<&dyn Parser> {
        self.catalog.parsers()
    }

    /// The built-in parsers plus custom schemas, filtered by `log_types`.
    fn candidates(&self) -> Result<Vec<&dyn Parser>> {
        let all = self.all_parsers();
        if self.options.log_types.is_empty() {
            return Ok(all);
        }
        self.options
            .log_types
            .iter()
            .map(|t| {
                all.iter()
                    .copied()
                    .find(|p| p.log_type() == caracal_logs::catalog::current_name(t))
                    .ok_or_else(|| Error::Invalid(format!("unknown log type {t:?}")))
            })
            .collect()
    }

    /// One processor for every object, or with a sources file one per configured prefix.
    pub fn router(&self) -> Result<Router<'_>> {
        let Some(sources) = self.sources_file()? else {
            let id = &self.options.source_id;
            return Ok(Processor::new(self.candidates()?, SourceInfo::new(id, id)).into());
        };
        let all = self.all_parsers();
        Router::from_sources(&sources, &all).map_err(|e| {
            Error::Invalid(format!("loading sources {}: {e}", self.options.sources_display()))
        })
    }

    /// The sources file of the options, checked against this configuration's log types.
    pub fn sources_file(&self) -> Result<Option<SourcesFile>> {
        let Some(path) = &self.options.sources else { return Ok(None) };
        let all = self.all_parsers();
        SourcesFile::load(path, &all)
            .map(Some)
            .map_err(|e| Error::Invalid(format!("loading sources {}: {e}", path.display())))
    }

    /// The object store reading each source's bucket (through its role, if it has one).
    async fn object_store(&self, ctx: &Context) -> Result<SourceStores> {
        SourceStores::open(ctx, self.sources_file()?.as_ref()).await
    }

    /// Where events go: the lake, and the rules (compiled here, with the configured
    /// destinations) when the options name rule packs.
    pub async fn open(&self, ctx: &Context) -> Result<Outputs> {
        let lake = self.lake(ctx).await?;
        let Some(source) = &self.options.rules else { return Ok(Outputs::lake_only(lake)) };
        let router = Arc::new(crate::alerts::router(ctx).await?);
        let store = ctx.store().await?.clone();
        let rules = compile_rules(source, Rules::compile).await?;
        let detector = Arc::new(Detector::new(Arc::new(rules), store.clone(), router.clone()));
        detector.attach_store().map_err(Error::detect("attaching the store to the rules"))?;
        let batch = match self.options.batch_size {
            0 => ctx.config().rules.batch_size,
            n => n,
        };
        Ok(Outputs::with_rules(lake, detector, batch, router, store))
    }

    /// The lake of `options.lake`: a local folder, or a bucket and prefix for `s3://`.
    pub async fn lake(&self, ctx: &Context) -> Result<Box<dyn EventSink + Send>> {
        let Some(lake) = &self.options.lake else { return Ok(Box::new(Discard)) };
        if !lake.starts_with("s3://") {
            let writer = LakeWriter::new(LocalLake::new(lake), LakeConfig::default());
            return Ok(Box::new(writer.with_tables(self.tables())));
        }
        let (bucket, prefix) = parse_s3_url(lake)
            .ok_or_else(|| Error::Invalid(format!("--lake {lake}: expected s3://bucket/prefix")))?;
        let store = S3Lake::new(ctx.home_clients().await?.s3(), bucket, prefix);
        Ok(Box::new(LakeWriter::new(store, LakeConfig::default()).with_tables(self.tables())))
    }

    /// The lake's typed table layouts: every type of the catalog, user schemas included.
    fn tables(&self) -> Tables {
        Tables::new(self.catalog.parsers())
    }
}

/// Compiles rule packs with `compile` (streaming or scheduled rules) in a blocking task;
/// specs that did not load are logged and left out.
pub(crate) async fn compile_rules(
    source: &RuleSource,
    compile: fn(&RuleSource) -> caracal_detect::Result<Rules>,
) -> Result<Rules> {
    let source = source.clone();
    let rules = tokio::task::spawn_blocking(move || compile(&source))
        .await
        .map_err(|e| Error::Task("rule compilation", e.to_string()))?
        .map_err(Error::detect("compiling rules"))?;
    for invalid in rules.invalid() {
        warn!(path = %invalid.path.display(), message = %invalid.message, "Invalid rule spec skipped.");
    }
    Ok(rules)
}

/// Processes files, folders and `s3://bucket/prefix` paths into `sink` and flushes it.
///
/// When processing fails, what was read is kept: in the lake when it takes it, else as
/// Parquet under `rescue_dir` ([`Error::LakeRescued`] says where).
pub async fn process_paths(
    ctx: &Context,
    pipeline: &LogPipeline,
    paths: &[String],
    sink: &mut (dyn EventSink + Send),
    rescue_dir: &Path,
) -> Result<Report> {
    if pipeline.options.sources.is_some()
        && let Some(local) = paths.iter().find(|p| !p.starts_with("s3://"))
    {
        return Err(Error::Invalid(format!(
            "--sources routes s3:// objects by key prefix; {local} is not one"
        )));
    }
    let mut router = pipeline.router()?;
    let mut report = Report::default();
    let result = process_all(ctx, pipeline, paths, &mut router, sink, &mut report).await;
    let Err(err) = result else {
        // Activity is kept per configured source; ad-hoc runs have none to keep.
        if pipeline.options.sources.is_some() {
            crate::sources::record(ctx, &report).await;
        }
        return Ok(report);
    };
    if tokio::task::block_in_place(|| sink.flush()).is_ok() {
        return Err(err);
    }
    let message = match tokio::task::block_in_place(|| sink.rescue(rescue_dir)) {
        Ok(files) if files.is_empty() => return Err(err),
        Ok(files) => format!(
            "the lake was not written; {} Parquet file(s) of buffered events kept under {}",
            files.len(),
            rescue_dir.display()
        ),
        Err(rescue_err) => format!(
            "the buffered events could not be kept under {}: {rescue_err}",
            rescue_dir.display()
        ),
    };
    Err(Error::LakeRescued { message, source: Box::new(err) })
}

async fn process_all(
    ctx: &Context,
    pipeline: &LogPipeline,
    paths: &[String],
    router: &mut Router<'_>,
    sink: &mut (dyn EventSink + Send),
    report: &mut Report,
) -> Result<()> {
    let mut store = None;
    for path in paths {
        if let Some(rest) = path.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let store = match &mut store {
                Some(store) => store,
                None => store.insert(pipeline.object_store(ctx).await?),
            };
            let r = caracal_logs::poll::process_prefix(router, &*store, bucket, prefix, sink)
                .await
                .map_err(Error::logs(format!("processing {path}")))?;
            report.merge(r);
        } else {
            let processor = router.single().ok_or_else(|| {
                Error::Invalid(
                    "--sources routes s3:// objects only; local paths are not routed".into(),
                )
            })?;
            let r = tokio::task::block_in_place(|| process_path(processor, path.as_ref(), sink))
                .map_err(Error::logs(format!("processing {path}")))?;
            report.merge(r);
        }
    }
    tokio::task::block_in_place(|| sink.flush()).map_err(Error::logs("writing the data lake"))
}

/// Polls the S3 notifications of an SQS queue; a message is deleted only once its
/// objects' events are flushed.
pub async fn poll(
    ctx: &Context,
    pipeline: &LogPipeline,
    queue_url: &str,
    options: &PollOptions,
    sink: &mut (dyn EventSink + Send),
) -> Result<PollOutcome> {
    let result = poll_queue(ctx, pipeline, queue_url, options, sink).await;
    if let Err(err) = &result {
        let error = caracal_core::error::chain(err);
        caracal_telemetry::emit(PollFailed { queue: "logs", error: &error });
    }
    result
}

async fn poll_queue(
    ctx: &Context,
    pipeline: &LogPipeline,
    queue_url: &str,
    options: &PollOptions,
    sink: &mut (dyn EventSink + Send),
) -> Result<PollOutcome> {
    let mut router = pipeline.router()?;
    let clients = ctx.home_clients().await?;
    let store = pipeline.object_store(ctx).await?;
    let queue = SqsQueue::new(clients.sqs(), queue_url);
    let outcome = caracal_logs::poll(&mut router, &store, &queue, options, sink)
        .await
        .map_err(Error::logs(format!("polling {queue_url}")))?;
    tokio::task::block_in_place(|| sink.flush()).map_err(Error::logs("writing the data lake"))?;
    crate::sources::record(ctx, &outcome.report).await;
    caracal_telemetry::emit(MessagesHandled {
        queue: "logs",
        done: outcome.deleted,
        kept: outcome.failed.len() as u64,
    });
    Ok(outcome)
}

/// A message [`process_batch`] could not finish.
#[derive(Debug, Clone, Serialize)]
pub struct FailedMessage {
    /// The queue's message id.
    pub id: String,
    /// Why.
    pub error: String,
    /// True when trying again may succeed (an object not readable yet, a lake write);
    /// false for a message that can never succeed (not a notification, unrouted key).
    pub retryable: bool,
}

/// What [`process_batch`] did with a batch of queue messages.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// The records of every object processed.
    pub report: Report,
    /// Messages fully processed, their events flushed.
    pub done: Vec<String>,
    /// Messages to leave on the queue (a Lambda reports them as `batchItemFailures`).
    pub failed: Vec<FailedMessage>,
}

/// Processes one batch of S3 notification messages (plain or SNS-wrapped), as the
/// log-processor function receives them: each message's objects into `sink`, then one
/// flush. A failing message never fails the others; when the flush fails, every message
/// is failed (retryable), since its events are not durable.
pub async fn process_batch(
    ctx: &Context,
    pipeline: &LogPipeline,
    messages: &[Message],
    sink: &mut (dyn EventSink + Send),
) -> Result<BatchOutcome> {
    let mut router = pipeline.router()?;
    let store = pipeline.object_store(ctx).await?;
    let mut outcome = BatchOutcome::default();
    for message in messages {
        let objects = match parse_notification(&message.body) {
            Ok(objects) => objects,
            Err(reason) => {
                warn!(message = %message.id, %reason, "Not an S3 notification.");
                outcome.failed.push(FailedMessage {
                    id: message.id.clone(),
                    error: reason,
                    retryable: false,
                });
                continue;
            }
        };
        let mut report = Report::default();
        let mut failure = None;
        for object in objects {
            match caracal_logs::poll::process_object(
                &mut router,
                &store,
                &object.bucket,
                &object.key,
                sink,
            )
            .await
            {
                Ok(r) => report.merge(r),
                Err(err) => {
                    let retryable = !matches!(err, caracal_logs::Error::Unrouted { .. });
                    failure = Some(FailedMessage {
                        id: message.id.clone(),
                        error: format!("s3://{}/{}: {err}", object.bucket, object.key),
                        retryable,
                    });
                    break;
                }
            }
        }
        outcome.report.merge(report);
        match failure {
            Some(failed) => {
                warn!(message = %failed.id, error = %failed.error, "Message kept for retry.");
                outcome.failed.push(failed);
            }
            None => outcome.done.push(message.id.clone()),
        }
    }
    if let Err(err) = tokio::task::block_in_place(|| sink.flush()) {
        let error = format!("writing the data lake: {err}");
        for id in outcome.done.drain(..) {
            outcome.failed.push(FailedMessage { id, error: error.clone(), retryable: true });
        }
    } else {
        crate::sources::record(ctx, &outcome.report).await;
    }
    caracal_telemetry::emit(MessagesHandled {
        queue: "logs",
        done: outcome.done.len() as u64,
        kept: outcome.failed.len() as u64,
    });
    Ok(outcome)
}
