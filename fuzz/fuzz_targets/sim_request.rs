//! The Stripe simulator's request handling (routing, query and form parsing, idempotency,
//! the transfer rules) on arbitrary requests: every request gets an answer, a JSON body
//! with an HTTP status, never a panic.
//!
//! Input: the first byte picks the method and whether to authenticate; then the request
//! target up to the first newline; then, for POST, the form body.

#![no_main]

use closebook_stripe_sim::{Dataset, Mode, SimConfig, SimService};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    static SIM: SimService = SimService::new(
        Dataset::demo(),
        SimConfig::new(Mode::Test, closebook_stripe_sim::DEFAULT_TEST_KEY),
    ).unwrap();
}

const METHODS: [&str; 4] = ["GET", "POST", "DELETE", "PUT"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(selector & 3)];
    let (target, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], rest[i + 1..].to_vec()),
        None => (rest, Vec::new()),
    };
    let Ok(target) = std::str::from_utf8(target) else {
        return;
    };
    let auth = format!("Bearer {}", closebook_stripe_sim::DEFAULT_TEST_KEY);
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if selector & 4 == 0 {
        headers.push(("authorization", auth.as_str()));
    }
    if selector & 8 != 0 {
        headers.push(("idempotency-key", "fuzz-key"));
    }
    if selector & 16 != 0 {
        headers.push(("stripe-account", "acct_fuzz"));
    }
    let answer = RT.with(|rt| SIM.with(|sim| rt.block_on(sim.handle(method, target, &headers, body))));
    if let Some((status, body)) = answer {
        assert!((200..600).contains(&status));
        assert!(
            serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
            "{status}: a body that is not JSON: {}",
            String::from_utf8_lossy(&body)
        );
    }
});
