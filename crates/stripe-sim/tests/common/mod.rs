//! Helpers shared by the integration tests: a real async-stripe client pointed at a
//! simulator, and a raw HTTP/1.1 client that shows exactly what went over the wire.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use closebook_stripe_sim::SimHandle;

/// The async-stripe client as Closebook builds it, aimed at the simulator.
pub fn client(sim: &SimHandle) -> stripe::Client {
    stripe::ClientBuilder::new(sim.api_key())
        .url(sim.url())
        .build()
        .expect("client builds")
}

pub fn client_with_timeout(sim: &SimHandle, timeout: Duration) -> stripe::Client {
    stripe::ClientBuilder::new(sim.api_key())
        .url(sim.url())
        .timeout(timeout)
        .build()
        .expect("client builds")
}

pub fn client_with_key(sim: &SimHandle, key: &str) -> stripe::Client {
    stripe::ClientBuilder::new(key)
        .url(sim.url())
        .build()
        .expect("client builds")
}

/// What a raw request got back.
#[derive(Debug)]
pub struct Raw {
    /// Every byte received before the connection ended.
    pub bytes: Vec<u8>,
    /// How reading ended when it was not an orderly close.
    pub error: Option<std::io::ErrorKind>,
}

impl Raw {
    fn split(&self) -> Option<(&[u8], &[u8])> {
        let at = self.bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        Some((&self.bytes[..at], &self.bytes[at + 4..]))
    }

    pub fn has_head(&self) -> bool {
        self.split().is_some()
    }

    pub fn status(&self) -> u16 {
        let (head, _) = self.split().expect("a response head");
        let line = String::from_utf8_lossy(head);
        line.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status code")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split()?;
        String::from_utf8_lossy(head).lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn body(&self) -> &[u8] {
        self.split().map_or(&[][..], |(_, b)| b)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.body()).expect("a JSON body")
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads until the server closes.
pub fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Raw {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).expect("write");
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let error = loop {
        match s.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) => break Some(e.kind()),
        }
    };
    Raw { bytes, error }
}

/// A GET with the simulator's key.
pub fn get(sim: &SimHandle, path: &str) -> Raw {
    let auth = format!("Bearer {}", sim.api_key());
    raw(sim.addr(), "GET", path, &[("Authorization", &auth)], None)
}

/// A GET with the key and a `Stripe-Account` header.
pub fn get_as(sim: &SimHandle, path: &str, account: &str) -> Raw {
    let auth = format!("Bearer {}", sim.api_key());
    raw(
        sim.addr(),
        "GET",
        path,
        &[("Authorization", &auth), ("Stripe-Account", account)],
        None,
    )
}

/// A form POST with the key and optional idempotency key.
pub fn post(sim: &SimHandle, path: &str, body: &str, idempotency_key: Option<&str>) -> Raw {
    let auth = format!("Bearer {}", sim.api_key());
    let mut headers = vec![("Authorization", auth.as_str())];
    if let Some(k) = idempotency_key {
        headers.push(("Idempotency-Key", k));
    }
    raw(sim.addr(), "POST", path, &headers, Some(body))
}

/// The `(status, type, code, param)` of an async-stripe Stripe error.
pub fn stripe_err(e: &stripe::StripeError) -> (u16, String, Option<String>, Option<String>) {
    match e {
        stripe::StripeError::Stripe(api, status) => (
            *status,
            api.type_.as_str().to_string(),
            api.code.as_ref().map(|c| c.as_str().to_string()),
            api.param.clone(),
        ),
        other => panic!("expected a Stripe error, got {other:?}"),
    }
}
