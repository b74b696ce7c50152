//! A JSON client for `/api/v1` router tests: bearer-token requests and problem documents.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use tutela_core::testing::Harness;
use tutela_web::{AppState, router};

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    #[track_caller]
    pub fn ok(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.json()
    }

    /// A problem document of `status`, naming `field` when given.
    #[track_caller]
    pub fn problem(&self, status: StatusCode, field: Option<&str>) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.body);
        let problem = self.json();
        assert!(problem["type"].as_str().is_some_and(|t| t.starts_with("urn:tutela:problem:")), "{problem}");
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{problem}");
        }
        problem
    }
}

pub struct Api {
    pub app: Router,
}

impl Api {
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
        let mut request =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let response = self.app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer { status, content_type, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, token, None).await
    }
}

pub fn api(h: &Harness) -> Api {
    Api { app: router(AppState { tutela: h.tutela.clone(), secure_cookies: true }) }
}
