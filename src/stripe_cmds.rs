//! `sync stripe`, `stripe set-key|forget-key|status` and `coverage`.

use super::*;
use std::io::Read;
use std::sync::atomic::AtomicBool;

pub(crate) fn stripe_key_from_env() -> Option<String> {
    api::stripe::key_from_env()
}

pub(super) fn cmd_sync_stripe(
    ctx: &Ctx,
    api_base: &str,
    since: Option<&str>,
    resync: Option<(&str, &str)>,
    rate: Option<u32>,
    concurrency: Option<usize>,
) -> Result<(), Failure> {
    use closebook_engine::stripe::{self, SyncControl, SyncOptions};
    let mut ws = ctx.open()?;
    let key = api::stripe::key(&ws, &ctx.secrets, stripe_key_from_env().as_deref())?;
    let mut options = SyncOptions::new(api_base, ws.info().mode.is_live());
    if let Some(s) = since {
        options.since = Some(parse_when(&ws, s, false)?);
    }
    if let Some((from, to)) = resync {
        options.resync = Some((
            parse_when(&ws, from, false)?,
            parse_when(&ws, to, true)? + jiff::SignedDuration::from_micros(1),
        ));
    }
    if let Some(r) = rate {
        if !(1..=100).contains(&r) {
            return Err(Failure::Usage(
                "--rate must be 1 to 100 requests per second".into(),
            ));
        }
        options.limits.requests_per_second = r;
    }
    if let Some(c) = concurrency {
        if !(1..=64).contains(&c) {
            return Err(Failure::Usage("--concurrency must be 1 to 64".into()));
        }
        options.limits.concurrency = c;
    }
    let cancel = AtomicBool::new(false);
    let mut last_errors = 0usize;
    let mut progress = |p: &stripe::SyncProgress| {
        eprintln!(
            "sync: {} — {} pages, {} objects, {} requests ({}/s), {} retries, windows {}/{}",
            p.phase,
            p.pages,
            p.objects,
            p.requests,
            p.requests_per_second,
            p.retries,
            p.windows_done,
            p.windows_total
        );
        for e in p.recent_errors.iter().skip(last_errors) {
            eprintln!("sync:   {e}");
        }
        last_errors = p.recent_errors.len();
    };
    let mut control = SyncControl {
        progress: &mut progress,
        cancel: &cancel,
    };
    let report = api::stripe::sync(&mut ws, &key, &options, &ctx.op(), &mut control)?;
    if ctx.json {
        print_json(&report);
        return Ok(());
    }
    println!(
        "Synced Stripe{} in {} ms: {} pages, {} requests, {} retries.",
        if report.resumed {
            " (continued an interrupted sync)"
        } else {
            ""
        },
        report.elapsed_ms,
        report.pages,
        report.requests,
        report.retries
    );
    for c in &report.counts {
        println!(
            "  {:<20} {:>8} added {:>8} changed {:>8} unchanged",
            c.object_type, c.added, c.changed, c.unchanged
        );
    }
    render::stripe_balance(&ws, &report.balance);
    render::coverage(&ws, &report.coverage);
    Ok(())
}

pub(super) fn cmd_stripe(ctx: &Ctx, cmd: StripeCommand) -> Result<(), Failure> {
    let ws = ctx.open()?;
    match cmd {
        StripeCommand::SetKey => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::Usage(format!("cannot read the key from stdin: {e}")))?;
            let key = api::stripe::set_key(&ws, &ctx.secrets, &text, &ctx.op())?;
            println!(
                "Stored the {} key in the OS keychain for this workspace{}.",
                key.kind_prefix(),
                if key.is_restricted() {
                    " (restricted)"
                } else {
                    ""
                }
            );
        }
        StripeCommand::ForgetKey => {
            api::stripe::forget_key(&ws, &ctx.secrets, &ctx.op())?;
            println!("Removed this workspace's Stripe key from the OS keychain.");
        }
        StripeCommand::Status => {
            let (status, source) =
                api::stripe::status(&ws, &ctx.secrets, stripe_key_from_env().as_deref(), 10)?;
            if ctx.json {
                print_json(
                    &serde_json::json!({"key": source.kind(), "key_source": source, "mirror": status}),
                );
            } else {
                render::stripe_status(&ws, &status, &source);
            }
        }
    }
    Ok(())
}

pub(super) fn cmd_coverage(
    ctx: &Ctx,
    set: Option<(i64, i64)>,
    history: u32,
) -> Result<(), Failure> {
    use closebook_engine::stripe::coverage;
    let ws = ctx.open()?;
    let set = set.map(|(low, medium)| coverage::Thresholds {
        low_min_bps: low,
        medium_min_bps: medium,
    });
    let (thresholds, lines) = api::stripe::coverage(&ws, set, history, &ctx.op())?;
    if ctx.json {
        print_json(&serde_json::json!({"thresholds": thresholds, "history": lines}));
        return Ok(());
    }
    println!(
        "Risk: low at or above {}, medium at or above {}, high below (available ÷ obligations).",
        render::bps(thresholds.low_min_bps),
        render::bps(thresholds.medium_min_bps)
    );
    if lines.is_empty() {
        println!("No coverage recorded yet: it is computed at each `closebook sync stripe`.");
    } else {
        render::coverage(&ws, &lines);
    }
    Ok(())
}
