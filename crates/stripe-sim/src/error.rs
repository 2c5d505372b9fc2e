//! Errors: the Stripe-shaped API errors the simulator answers with, and the errors of
//! starting it.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration is inconsistent (say, a live key in test mode).
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    /// The dataset cannot be served (duplicate ids, wrong signs, unparsable dates).
    #[error("invalid dataset: {0}")]
    Dataset(String),
    /// Binding the loopback socket or starting the runtime failed.
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// `Simulator::start` was called outside a tokio runtime.
    #[error(
        "Simulator::start must be called inside a tokio runtime; use SimHandle::spawn_thread otherwise"
    )]
    NoRuntime,
}

/// One error response in Stripe's wire shape:
/// `{"error": {"type": .., "code": .., "message": .., "param": ..}}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub type_: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    /// The `Stripe-Should-Retry` header, when the error carries one.
    pub should_retry: Option<bool>,
}

impl ApiError {
    pub fn new(status: StatusCode, type_: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            type_,
            code: None,
            message: message.into(),
            param: None,
            should_retry: None,
        }
    }

    /// A 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    pub fn param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    pub fn status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    pub fn should_retry(mut self, retry: bool) -> ApiError {
        self.should_retry = Some(retry);
        self
    }

    /// 404 `resource_missing` for an unknown id in the path.
    pub fn no_such(noun: &str, id: &str) -> ApiError {
        ApiError::invalid(format!("No such {noun}: '{id}'"))
            .status(StatusCode::NOT_FOUND)
            .code("resource_missing")
            .param("id")
    }

    /// 400 `resource_missing` for an unknown id given as a parameter (a cursor, a filter).
    pub fn no_such_param(noun: &str, id: &str, param: &str) -> ApiError {
        ApiError::invalid(format!("No such {noun}: '{id}'"))
            .code("resource_missing")
            .param(param)
    }

    pub fn unknown_parameter(name: &str) -> ApiError {
        ApiError::invalid(format!("Received unknown parameter: {name}"))
            .code("parameter_unknown")
            .param(name)
    }

    pub fn invalid_integer(name: &str, value: &str) -> ApiError {
        ApiError::invalid(format!("Invalid integer: {value}"))
            .code("parameter_invalid_integer")
            .param(name)
    }

    pub fn missing_parameter(name: &str) -> ApiError {
        ApiError::invalid(format!("Missing required param: {name}."))
            .code("parameter_missing")
            .param(name)
    }

    /// Stripe's 429 answer. Stripe sends no `Stripe-Should-Retry` on it (clients retry 429 by
    /// status), and neither does the simulator.
    pub fn rate_limited() -> ApiError {
        ApiError::invalid(
            "Request rate limit exceeded. You can make up to the configured number of requests \
             per second; retry after a short back-off.",
        )
        .status(StatusCode::TOO_MANY_REQUESTS)
        .code("rate_limit")
    }

    pub fn body(&self) -> Value {
        let mut e = Map::new();
        e.insert("type".into(), json!(self.type_));
        e.insert("message".into(), json!(self.message));
        if let Some(code) = self.code {
            e.insert("code".into(), json!(code));
            e.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(p) = &self.param {
            e.insert("param".into(), json!(p));
        }
        json!({ "error": Value::Object(e) })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.status, &self.body());
        if let Some(retry) = self.should_retry {
            resp.headers_mut().insert(
                "stripe-should-retry",
                HeaderValue::from_static(if retry { "true" } else { "false" }),
            );
        }
        resp
    }
}

/// A JSON response with an exact `Content-Length`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes_response(status, serde_json::to_vec(body).unwrap_or_default())
}

pub(crate) fn json_bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
