//! `closebook webhooks`: what Stripe sent per day and event type, and what the platform's
//! webhook table says of it.

use crate::{Ctx, Failure, print_json};

fn day(s: &str) -> Result<jiff::civil::Date, Failure> {
    closebook_app::api::reconcile::day(s).map_err(crate::usage)
}

pub fn cmd_webhooks(ctx: &Ctx, from: Option<String>, to: Option<String>) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let today = ctx.now.to_zoned(ws.time_zone().clone()).date();
    let to = to.as_deref().map(day).transpose()?.unwrap_or(today);
    let from = match from.as_deref() {
        Some(f) => day(f)?,
        None => to.saturating_sub(jiff::Span::new().days(29)),
    };
    let days = closebook_app::api::reconcile::webhooks(&ws, from, to)?;
    if ctx.json {
        print_json(&days);
        return Ok(());
    }
    if days.is_empty() {
        println!(
            "No Stripe event mirrored from {from} to {to} (Stripe keeps events for 30 days; sync to mirror them)."
        );
        return Ok(());
    }
    println!(
        "{:<10}  {:<28} {:>6} {:>8} {:>9} {:>6} {:>7} {:>7}",
        "day", "event type", "sent", "recorded", "processed", "failed", "pending", "missing"
    );
    let (mut missing, mut failed) = (0u64, 0u64);
    for d in &days {
        let flag = if !d.subscribed {
            "  (not subscribed)"
        } else if d.missing + d.failed > 0 {
            "  ←"
        } else {
            ""
        };
        if d.subscribed {
            missing += d.missing;
            failed += d.failed;
        }
        println!(
            "{:<10}  {:<28} {:>6} {:>8} {:>9} {:>6} {:>7} {:>7}{flag}",
            d.day.to_string(),
            d.event_type,
            d.sent,
            d.recorded,
            d.processed,
            d.failed,
            d.pending,
            d.missing
        );
    }
    println!(
        "{missing} events never reached the platform and {failed} failed there, from {from} to {to} (types the platform's table never recorded are taken as not subscribed)."
    );
    Ok(())
}
