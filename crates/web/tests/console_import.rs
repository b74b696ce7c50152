//! Importing from the console: a multipart upload starts a background job, its progress
//! fragment is polled until the end, and the result names the bad rows by line and column.

use crate::support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use support::{SESSION_COOKIE, create_user, get, sign_in};
use tower::ServiceExt as _;
use tutela_core::testing::{Backend, Harness};
use tutela_web::{AppState, router};

const BOUNDARY: &str = "tutela-test-boundary";

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &Router, session: &str, body: Vec<u8>) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/import")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
        .header(header::ACCEPT_LANGUAGE, "en")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
    (status, location, body)
}

/// Polls the progress fragment (as the page does every second) until the job has ended.
async fn finished(app: &Router, session: &str, job: &str) -> String {
    for _ in 0..200 {
        let a = get(app, &format!("{job}/progress"), Some(session), "en").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        if !a.body.contains("hx-trigger=\"every 1s\"") {
            return a.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

async fn upload_and_follow(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "steward@example.com", &["data-steward"]).await;
    create_user(&h, "sales@example.com", &["sales"]).await;
    let steward = sign_in(&h, "steward@example.com").await;
    let sales = sign_in(&h, "sales@example.com").await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let csrf = get(&app, "/import", Some(&steward), "en").await.csrf();
    let csv = "姓名,电子邮箱,电话\n张三,zhang@example.com,13812345678\n李四,not-an-address,13912345678\n王五,wang@example.com,13712345678\n";
    let fields = |skip: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("preset", "fields".into()),
            ("encoding", "auto".into()),
            ("skip_bad", skip.into()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();

    // Without the token nothing starts.
    let (status, _, _) =
        upload(&app, &steward, multipart(&[("preset", "auto")], Some(("c.csv", csv.as_bytes())))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without a file the form says so.
    let owned = as_refs(&fields(""));
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = upload(&app, &steward, multipart(&refs, None)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Choose a file to import"));

    // All or nothing: one bad row, nothing written, the row named.
    let (status, job, _) = upload(&app, &steward, multipart(&refs, Some(("customers.csv", csv.as_bytes())))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(job.starts_with("/import/"));
    let done = finished(&app, &steward, &job).await;
    assert!(done.contains("Nothing was imported") && done.contains("not an e-mail address"), "{done}");
    assert!(done.contains("<td class=\"num\">3</td><td>电子邮箱</td>"), "line and column of the bad row: {done}");
    assert_eq!(h.tutela.customer_count().await.unwrap(), 0);
    // Another user does not see the job.
    assert_eq!(get(&app, &job, Some(&sales), "en").await.status, StatusCode::FORBIDDEN, "sales may not import at all");

    // Skipping bad rows imports the good ones.
    let owned = as_refs(&fields("on"));
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, job, _) = upload(&app, &steward, multipart(&refs, Some(("customers.csv", csv.as_bytes())))).await;
    let page = get(&app, &job, Some(&steward), "en").await;
    assert!(page.body.contains("customers.csv"));
    let done = finished(&app, &steward, &job).await;
    assert!(done.contains("id=\"import-imported\">2<") && done.contains("id=\"import-rejected\">1<"), "{done}");
    assert_eq!(h.tutela.customer_count().await.unwrap(), 2);
    h.close().await;
}

/// Uploads may be large (64 MiB on this route only); the rest of the console keeps 1 MiB.
async fn large_uploads_only_on_the_import_route(backend: Backend) {
    let h = Harness::new(backend).await;
    create_user(&h, "steward@example.com", &["data-steward"]).await;
    let steward = sign_in(&h, "steward@example.com").await;
    let app = router(AppState { tutela: h.tutela.clone(), secure_cookies: true });
    let csrf = get(&app, "/import", Some(&steward), "en").await.csrf();
    let mut csv = String::from("unknown,columns\n");
    while csv.len() < 3 * 1024 * 1024 {
        csv.push_str("some value,another value\n");
    }
    let fields = [("_csrf", csrf.as_str()), ("preset", "fields"), ("encoding", "utf-8")];
    let (status, job, body) = upload(&app, &steward, multipart(&fields, Some(("big.csv", csv.as_bytes())))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let done = finished(&app, &steward, &job).await;
    assert!(done.contains("could not be imported") && done.contains("no column matches"), "{done}");
    let form = support::form(&[("_csrf", &csrf), ("f_name", &csv)]);
    let a = support::call(
        &app,
        Method::POST,
        "/customers/new",
        support::Call { session: Some(&steward), form: Some(form), ..support::Call::default() },
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    h.close().await;
}

tutela_core::on_both_stores! {
    upload_and_follow_ => upload_and_follow;
    large_uploads_only_on_the_import_route_ => large_uploads_only_on_the_import_route;
}
