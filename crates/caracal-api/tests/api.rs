//! The API end to end over real sockets on 127.0.0.1, against the emulator's seeded
//! account: tokens and scopes, resources and compliance, plan and apply a remediation
//! (the verdict flips to PASS, the audit names the token), and bad input.

mod common;

use caracal_api::ApiOptions;
use caracal_app::tokens::{self, Scope};
use caracal_testkit::Emulator;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body)).await
    }
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body:#}");
    assert!(body["error"]["code"].is_string(), "a JSON error body: {body:#}");
    assert!(body["error"]["message"].is_string(), "{body:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_scopes_resources_and_click_to_remediate_over_real_sockets() {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, manifest, policies) = common::scanned(&emulator, dir.path()).await;

    let read = tokens::create(&ctx, "dashboard", &[Scope::Read]).await.expect("token");
    let fixer = tokens::create(&ctx, "chatops-bot", &[Scope::Remediate]).await.expect("token");
    let listed = tokens::list(&ctx).await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(
        !serde_json::to_string(&listed).unwrap().contains(&read.token[17..]),
        "no secret is listed"
    );

    let options = ApiOptions { policies: Some(policies), ..ApiOptions::default() };
    let server = common::serve(ctx.clone(), options).await;
    let api = Api { base: server.base.clone(), http: reqwest::Client::new() };
    let (r, f) = (Some(read.token.as_str()), Some(fixer.token.as_str()));

    // Health needs no token; everything under /v1 does.
    let (status, body) = api.get("/health", None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = api.get("/v1/resources", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    // The secret with its last character changed (to '0', or '1' when it already ends in '0').
    let last = if read.token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &read.token[..read.token.len() - 1]);
    let (status, body) = api.get("/v1/resources", Some(&forged)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = api.get("/v1/tokens", r).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);

    // Resources: filter, cursor paging, one resource with its verdicts.
    let (status, page) = api.get("/v1/resources?type=AWS.EC2.SecurityGroup&limit=1", r).await;
    assert_eq!(status, StatusCode::OK, "{page:#}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next"].as_str().expect("more groups than one");
    let (_, second) = api
        .get(
            &format!("/v1/resources?type=AWS.EC2.SecurityGroup&limit=1&cursor={}", encode(cursor)),
            r,
        )
        .await;
    assert_ne!(
        second["items"][0]["resource"]["ResourceId"],
        page["items"][0]["resource"]["ResourceId"]
    );
    let (status, failing) =
        api.get("/v1/resources?type=AWS.EC2.SecurityGroup&compliance=fail", r).await;
    assert_eq!(status, StatusCode::OK);
    let open = manifest.security_groups.iter().find(|g| g.open_ports.contains(&22)).unwrap();
    let open_arn = failing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["resource"]["ResourceId"].as_str().unwrap().to_owned())
        .find(|id| id.ends_with(&open.id))
        .expect("the open group fails");
    let verdict = |detail: &Value, policy: &str| -> String {
        detail["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["policy_id"] == policy)
            .map(|v| v["status"].to_string())
            .unwrap_or_default()
    };
    let (status, detail) = api.get(&format!("/v1/resources/{}", encode(&open_arn)), r).await;
    assert_eq!(status, StatusCode::OK, "{detail:#}");
    assert!(verdict(&detail, "AWS.EC2.SecurityGroup.NoOpenSSH").contains("FAIL"), "{detail:#}");
    assert!(!detail["history"].as_array().unwrap().is_empty());
    let (status, overview) = api.get("/v1/compliance", r).await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview["by_policy"]["AWS.EC2.SecurityGroup.NoOpenSSH"]["fail"].as_u64() >= Some(1));
    assert!(
        overview["by_control"]
            .as_object()
            .is_some_and(|c| c.keys().any(|k| k.starts_with("CIS-AWS-3.0 ")))
    );
    assert!(overview["by_resource_type"]["AWS.EC2.SecurityGroup"]["fail"].as_u64() >= Some(1));

    // Plan with a read token: the exact calls, nothing changed.
    let fix = json!({"resource_id": open_arn, "remediation_id": "AWS.EC2.RevokeWorldAdminIngress"});
    let (status, plan) = api.post("/v1/remediations/plan", r, fix.clone()).await;
    assert_eq!(status, StatusCode::OK, "{plan:#}");
    assert!(!plan["calls"].as_array().unwrap().is_empty(), "{plan:#}");
    // Apply needs the remediate scope.
    let (status, body) = api.post("/v1/remediations/apply", r, fix.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, applied) = api.post("/v1/remediations/apply", f, fix.clone()).await;
    assert_eq!(status, StatusCode::OK, "{applied:#}");
    assert_eq!(applied["report"]["outcome"], "fixed", "{applied:#}");
    let (_, detail) = api.get(&format!("/v1/resources/{}", encode(&open_arn)), r).await;
    assert!(verdict(&detail, "AWS.EC2.SecurityGroup.NoOpenSSH").contains("PASS"), "{detail:#}");
    let (status, audit) = api.get(&format!("/v1/audit?resource={}", encode(&open_arn)), r).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        audit.as_array().unwrap().iter().any(|a| a["actor"] == "token:chatops-bot"),
        "the audit names the token: {audit:#}"
    );
    // The fix is in the verdict history: NEW→FAIL at the scan, FAIL→PASS after the fix.
    let ssh = "AWS.EC2.SecurityGroup.NoOpenSSH";
    let (status, history) = api
        .get(
            &format!("/v1/compliance/history?resource={}&policy={ssh}&since=1d", encode(&open_arn)),
            r,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{history:#}");
    let changes: Vec<(Value, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"]["status"].clone(), t["to"]["status"].clone()))
        .collect();
    assert_eq!(
        changes,
        [("FAIL".into(), "PASS".into()), (Value::Null, "FAIL".into())],
        "{history:#}"
    );
    let (status, body) = api.get("/v1/compliance/history?since=soon", r).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);

    // Scans: started with the remediate scope, attributed to the token, followed to the end.
    let one_type = json!({"types": ["AWS.EC2.SecurityGroup"]});
    let (status, body) = api.post("/v1/scans", r, one_type.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = api.post("/v1/scans", f, json!({"types": ["AWS.No.Such"]})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, run) = api.post("/v1/scans", f, one_type).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run:#}");
    assert_eq!(run["started_by"], "token:chatops-bot", "{run:#}");
    let id = run["id"].as_u64().unwrap();
    let mut run = run;
    for _ in 0..600 {
        if run["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        run = api.get(&format!("/v1/scans/{id}"), r).await.1;
    }
    assert_eq!(run["status"], "finished", "{run:#}");
    assert!(run["summary"]["seen"].as_u64() >= Some(1), "{run:#}");
    let (_, runs) = api.get("/v1/scans", r).await;
    assert!(runs.as_array().unwrap().iter().any(|s| s["id"] == id), "{runs:#}");

    // Bad input: 4xx with a JSON error body, never 5xx.
    let (status, body) = api.get("/v1/resources?cursor=not-a-cursor", r).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = api.get("/v1/resources?limit=0", r).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = api.get("/v1/resources/arn%3Aaws%3As3%3A%3A%3Anope", r).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let raw = api
        .http
        .post(format!("{}/v1/remediations/plan", api.base))
        .bearer_auth(&read.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let status = raw.status();
    let body: Value = raw.json().await.expect("a JSON error body");
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    // Over the 1 MiB limit: 413 with a JSON body. The server answers before it has read
    // the whole body and closes the connection, so the client may instead see the
    // connection end while it is still sending; either way nothing is planned.
    let big = json!({"resource_id": "x".repeat(2 << 20), "remediation_id": "y"});
    let sent = api
        .http
        .post(format!("{}/v1/remediations/plan", api.base))
        .bearer_auth(&read.token)
        .json(&big)
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let status = resp.status();
            let body: Value = resp.json().await.expect("a JSON error body");
            assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
        }
        Err(err) => assert!(err.is_request(), "refused mid-upload, nothing else: {err:?}"),
    }
    let (status, body) = api
        .post(
            "/v1/remediations/plan",
            r,
            json!({"resource_id": open_arn, "remediation_id": "AWS.No.Such"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = api.get("/v1/no-such-route", r).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);

    // The document and the counters.
    let (status, doc) = api.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/v1/remediations/apply"]["post"].is_object(), "{doc:#}");
    let (status, text) = api.get("/metrics", r).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap_or_default();
    assert!(text.contains("caracal_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/v1/remediations/apply\""), "{text}");
    // The internal events' counters, whichever handler or loop raised them.
    for line in [
        "caracal_remediations_total{remediation_id=\"AWS.EC2.RevokeWorldAdminIngress\",outcome=\"fixed\"} 1",
        "caracal_scans_total{outcome=\"ok\"}",
        "caracal_scan_resources_total{resource_type=\"AWS.EC2.SecurityGroup\",change=\"seen\"}",
        "# TYPE caracal_policy_verdicts counter",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }

    // Revoked tokens stop working.
    assert!(tokens::revoke(&ctx, &read.info.id).await.unwrap());
    let (status, _) = api.get("/v1/resources", r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    server.shut_down().await;
}
