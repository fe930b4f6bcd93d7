//! A read-only [`ObjectStore`] over the AWS SDK's S3 client, so DataFusion reads the S3
//! lake with the credentials, endpoint and retries caracal already configures (assumed
//! roles, `AWS_ENDPOINT_URL`), without a second HTTP and credential stack. Queries only
//! read: every write answers `NotSupported`.

use std::fmt;
use std::ops::Range;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

const STORE: &str = "S3";

/// One bucket read through the SDK.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    /// Reads `bucket` with `client`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

impl fmt::Display for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Store(s3://{})", self.bucket)
    }
}

fn failed<E>(path: &str, err: SdkError<E>) -> object_store::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or_default().to_owned();
    if matches!(code.as_str(), "NoSuchKey" | "NotFound" | "NoSuchBucket") {
        return object_store::Error::NotFound { path: path.to_owned(), source: Box::new(err) };
    }
    object_store::Error::Generic { store: STORE, source: Box::new(err) }
}

fn not_supported(what: &str) -> object_store::Error {
    object_store::Error::NotSupported {
        source: format!("the S3 lake reader does not {what}").into(),
    }
}

fn time(t: Option<&aws_sdk_s3::primitives::DateTime>) -> DateTime<Utc> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())).unwrap_or_default()
}

fn path(key: &str) -> Path {
    Path::parse(key).unwrap_or_else(|_| Path::from(key))
}

/// What S3 said of an object, for the answers of [`S3Store::get_opts`].
struct Object<'a> {
    location: &'a Path,
    modified: Option<&'a aws_sdk_s3::primitives::DateTime>,
    e_tag: Option<&'a str>,
    size: u64,
}

impl Object<'_> {
    fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            location: self.location.clone(),
            last_modified: time(self.modified),
            size: self.size,
            e_tag: self.e_tag.map(str::to_owned),
            version: None,
        }
    }

    /// `range` of the object, its bytes coming from `stream`.
    fn result(
        &self,
        range: Range<u64>,
        stream: BoxStream<'static, object_store::Result<bytes::Bytes>>,
    ) -> GetResult {
        GetResult {
            payload: GetResultPayload::Stream(stream),
            meta: self.meta(),
            range,
            attributes: Default::default(),
        }
    }
}

/// `bytes start-end/total` of a ranged answer.
fn content_range(text: &str) -> Option<(Range<u64>, u64)> {
    let (range, total) = text.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
    Some((start..end + 1, total.parse().ok()?))
}

impl S3Store {
    async fn list_page(
        &self,
        prefix: Option<&Path>,
        delimiter: bool,
        token: Option<String>,
    ) -> object_store::Result<(ListResult, Option<String>)> {
        let mut prefix = prefix.map(|p| p.as_ref().to_owned()).unwrap_or_default();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        let mut request = self.client.list_objects_v2().bucket(&self.bucket).prefix(&prefix);
        if delimiter {
            request = request.delimiter("/");
        }
        if let Some(token) = token {
            request = request.continuation_token(token);
        }
        let page = request.send().await.map_err(|e| failed(&prefix, e))?;
        let objects = page
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ObjectMeta {
                    location: path(o.key()?),
                    last_modified: time(o.last_modified()),
                    size: u64::try_from(o.size().unwrap_or(0)).unwrap_or(0),
                    e_tag: o.e_tag().map(str::to_owned),
                    version: None,
                })
            })
            .collect();
        let common_prefixes = page
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .map(|p| path(p.trim_end_matches('/')))
            .collect();
        let next = page
            .is_truncated()
            .unwrap_or(false)
            .then(|| page.next_continuation_token().map(str::to_owned))
            .flatten();
        Ok((ListResult { common_prefixes, objects }, next))
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put_opts(
        &self,
        _: &Path,
        _: PutPayload,
        _: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(not_supported("write"))
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(not_supported("write"))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let key = location.as_ref();
        if options.head {
            let head = self
                .client
                .head_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| failed(key, e))?;
            let size = u64::try_from(head.content_length().unwrap_or(0)).unwrap_or(0);
            let object =
                Object { location, modified: head.last_modified(), e_tag: head.e_tag(), size };
            return Ok(object.result(0..size, futures::stream::empty().boxed()));
        }
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some(range) = &options.range {
            let header = match range {
                GetRange::Bounded(r) if r.end > r.start => {
                    format!("bytes={}-{}", r.start, r.end - 1)
                }
                GetRange::Bounded(_) => {
                    return Err(object_store::Error::Generic {
                        store: STORE,
                        source: "an empty byte range".into(),
                    });
                }
                GetRange::Offset(o) => format!("bytes={o}-"),
                GetRange::Suffix(n) => format!("bytes=-{n}"),
            };
            request = request.range(header);
        }
        let answer = request.send().await.map_err(|e| failed(key, e))?;
        let length = u64::try_from(answer.content_length().unwrap_or(0)).unwrap_or(0);
        let ranged = answer.content_range().and_then(content_range);
        if let (Some(wanted), None) = (&options.range, &ranged) {
            // The server sent the whole object (200, no Content-Range): cut the range here.
            let whole = answer.body.collect().await.map_err(|e| object_store::Error::Generic {
                store: STORE,
                source: format!("reading {key}: {e}").into(),
            })?;
            let bytes = whole.into_bytes();
            let size = bytes.len() as u64;
            let range = wanted.as_range(size).map_err(|e| object_store::Error::Generic {
                store: STORE,
                source: format!("{key}: {e}").into(),
            })?;
            let part = bytes.slice(range.start as usize..range.end as usize);
            let modified = answer.last_modified.as_ref();
            let object = Object { location, modified, e_tag: answer.e_tag.as_deref(), size };
            return Ok(object.result(range, futures::stream::once(async move { Ok(part) }).boxed()));
        }
        let (range, size) = ranged.unwrap_or((0..length, length));
        let modified = answer.last_modified.as_ref();
        let object = Object { location, modified, e_tag: answer.e_tag.as_deref(), size };
        let body = answer.body;
        let key = key.to_owned();
        let stream = futures::stream::once(async move {
            body.collect().await.map(|data| data.into_bytes()).map_err(|e| {
                object_store::Error::Generic {
                    store: STORE,
                    source: format!("reading {key}: {e}").into(),
                }
            })
        })
        .boxed();
        Ok(object.result(range, stream))
    }

    async fn delete(&self, _: &Path) -> object_store::Result<()> {
        Err(not_supported("delete"))
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let store = self.clone();
        let prefix = prefix.cloned();
        futures::stream::unfold(Some(None), move |token: Option<Option<String>>| {
            let store = store.clone();
            let prefix = prefix.clone();
            async move {
                let token = token?;
                match store.list_page(prefix.as_ref(), false, token).await {
                    Ok((page, next)) => {
                        let items: Vec<object_store::Result<ObjectMeta>> =
                            page.objects.into_iter().map(Ok).collect();
                        Some((futures::stream::iter(items), next.map(Some)))
                    }
                    Err(e) => Some((futures::stream::iter(vec![Err(e)]), None)),
                }
            }
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let mut all = ListResult { common_prefixes: Vec::new(), objects: Vec::new() };
        let mut token = None;
        loop {
            let (page, next) = self.list_page(prefix, true, token).await?;
            all.common_prefixes.extend(page.common_prefixes);
            all.objects.extend(page.objects);
            match next {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn copy(&self, _: &Path, _: &Path) -> object_store::Result<()> {
        Err(not_supported("copy"))
    }

    async fn copy_if_not_exists(&self, _: &Path, _: &Path) -> object_store::Result<()> {
        Err(not_supported("copy"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranged_answers_give_their_range_and_the_object_size() {
        assert_eq!(content_range("bytes 0-99/1234"), Some((0..100, 1234)));
        assert_eq!(content_range("bytes 1200-1233/1234"), Some((1200..1234, 1234)));
        assert_eq!(content_range("bytes */1234"), None);
    }
}
