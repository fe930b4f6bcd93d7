//! [`Function`]: what one function builds once per cold start and keeps across
//! invocations: the settings, the application context, and for the log processor its
//! pipeline and outputs (lake writer, compiled rules).

use std::sync::Arc;

use caracal_app::{Context, LogOptions, LogPipeline, Outputs, PolicySource};
use caracal_aws::{Aws, Purpose};
use caracal_detect::RuleSource;
use tracing::info;

use crate::dispatch::SqsDispatch;
use crate::error::{Error, Result};
use crate::functions::FunctionSpec;
use crate::settings::Settings;

/// One function's state, shared by its invocations.
pub struct Function {
    spec: &'static FunctionSpec,
    settings: Settings,
    ctx: Arc<Context>,
    outputs: tokio::sync::OnceCell<tokio::sync::Mutex<(LogPipeline, Outputs)>>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.spec.name).finish_non_exhaustive()
    }
}

impl Function {
    /// Reads the environment, resolves the destination secrets (Secrets Manager, SSM) and
    /// prepares the context (clients and store open on first use).
    pub async fn from_env(spec: &'static FunctionSpec) -> Result<Self> {
        let mut settings = Settings::from_env(spec)?;
        let needs_aws = !settings.secrets.is_empty() || settings.remediation_queue_url.is_some();
        let aws = match needs_aws {
            true => Some(Aws::builder(&settings.config.aws).build().await.map_err(|e| {
                Error::App(caracal_app::Error::Invalid(format!("configuring AWS: {e}")))
            })?),
            false => None,
        };
        if let Some(aws) = &aws
            && !settings.secrets.is_empty()
        {
            crate::secrets::resolve(aws, &mut settings).await?;
        }
        let mut ctx = Context::from_config(settings.config.clone());
        if let (Some(aws), Some(queue)) = (&aws, &settings.remediation_queue_url) {
            let session = aws.session(None, Purpose::Scan).await.map_err(|e| {
                Error::App(caracal_app::Error::Invalid(format!("resolving the AWS account: {e}")))
            })?;
            let dispatch = SqsDispatch::new(session.home().sqs(), queue.clone());
            ctx = ctx.with_remediation_dispatch(Arc::new(dispatch));
        }
        let ctx = Arc::new(ctx);
        info!(function = spec.name, "Function initialized.");
        Ok(Self::new(spec, settings, ctx))
    }

    /// A function over a context built elsewhere (tests, an emulator).
    pub fn new(spec: &'static FunctionSpec, settings: Settings, ctx: Arc<Context>) -> Self {
        Self { spec, settings, ctx, outputs: tokio::sync::OnceCell::new() }
    }

    /// Which function this is.
    pub fn spec(&self) -> &'static FunctionSpec {
        self.spec
    }

    /// Its settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The application context.
    pub fn ctx(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The configured policy packs; every folder must exist.
    pub fn policies(&self) -> Result<PolicySource> {
        Ok(PolicySource::required(&self.ctx.config().policies)?)
    }

    /// The configured rule packs, or `None` when `[rules] paths` is empty.
    pub fn rules(&self) -> Option<RuleSource> {
        let rules = &self.ctx.config().rules;
        (!rules.paths.is_empty()).then(|| RuleSource::configured(rules.paths.clone(), rules))
    }

    /// The log pipeline and its outputs, built on first use and kept (rules compile once
    /// per cold start).
    pub(crate) async fn outputs(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, (LogPipeline, Outputs)>> {
        let slot = self
            .outputs
            .get_or_try_init(|| async {
                let pipeline = LogPipeline::new(LogOptions {
                    sources: self.settings.sources.clone(),
                    lake: self.settings.lake.clone(),
                    source_id: self.spec.name.to_owned(),
                    rules: self.rules(),
                    ..LogOptions::default()
                })?;
                let outputs = pipeline.open(&self.ctx).await?;
                Ok::<_, Error>(tokio::sync::Mutex::new((pipeline, outputs)))
            })
            .await?;
        Ok(slot.lock().await)
    }
}
