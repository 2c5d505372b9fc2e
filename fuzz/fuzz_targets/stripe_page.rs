//! Stripe's list pages as a sync parses them (async-stripe's typed objects, Closebook's
//! balance-transaction rows, the raw mirror rows) on arbitrary bytes: parsed or refused,
//! never a panic. The first byte picks the object type; the rest is the response body.

#![no_main]

use closebook_engine::stripe::sync::{ObjectType, parse_page};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let object_type = ObjectType::ALL[usize::from(selector) % ObjectType::ALL.len()];
    if let Err(e) = parse_page(object_type, body) {
        assert!(!e.to_string().is_empty());
    }
});
