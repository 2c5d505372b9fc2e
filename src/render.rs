//! Text output: aligned tables with amounts right-aligned in their currency's decimals.

use closebook_engine::Workspace;
use closebook_engine::ledger::{
    AccountBalance, Amount, GeneralLedger, MirrorSummary, PostingPage, TreeNode, TrialBalance,
};
use jiff::Timestamp;

pub fn local_time(ws: &Workspace, t: Timestamp) -> String {
    t.to_zoned(ws.time_zone().clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

pub fn workspace_header(ws: &Workspace) {
    let i = ws.info();
    println!("Workspace  {} ({})", i.name, i.path.display());
    println!(
        "Mode       {}      Time zone  {}      Schema  v{}",
        i.mode.as_str(),
        i.timezone,
        i.schema_version
    );
}

pub fn summary(ws: &Workspace, s: &MirrorSummary) {
    if s.postings == 0 {
        println!("Ledger     empty: import a ledger file or pull from PostgreSQL");
    } else {
        println!(
            "Ledger     {} postings in {} entries over {} accounts ({})",
            s.postings,
            s.entries,
            s.accounts,
            s.currencies
                .iter()
                .map(|c| c.to_uppercase())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let (Some(a), Some(b)) = (s.first_posting, s.last_posting) {
        println!(
            "           from {} to {}",
            local_time(ws, a),
            local_time(ws, b)
        );
    }
    println!(
        "Platform   {} monthly balances, {} allocations, {} connected accounts, {} webhook events, {} withdrawal requests",
        s.balances, s.allocations, s.connected_accounts, s.webhook_events, s.withdrawals
    );
}

pub fn as_of_line(ws: &Workspace, as_of: Option<Timestamp>) {
    match as_of {
        Some(t) => println!("As of {}", local_time(ws, t)),
        None => println!("All postings"),
    }
}

fn amounts(list: &[Amount]) -> String {
    list.iter()
        .map(|a| a.money().format())
        .collect::<Vec<_>>()
        .join("  ")
}

pub fn tree(nodes: &[TreeNode]) {
    let width = nodes
        .iter()
        .map(|n| n.depth * 2 + n.name.len())
        .max()
        .unwrap_or(10)
        .max(10);
    for n in nodes {
        let label = format!("{}{}", "  ".repeat(n.depth), n.name);
        println!("  {label:<width$}  {:>24}", amounts(&n.total));
    }
}

pub fn flat_balances(leaves: &[AccountBalance]) {
    let width = leaves.iter().map(|l| l.account.len()).max().unwrap_or(10);
    for l in leaves {
        println!(
            "  {:<width$}  {:>24}  ({} postings)",
            l.account,
            l.balance.money().format(),
            l.postings
        );
    }
}

pub fn trial_balance(tb: &TrialBalance) {
    let width = tb
        .rows
        .iter()
        .map(|r| r.account.len())
        .max()
        .unwrap_or(10)
        .max(7);
    println!("  {:<width$}  {:>22}  {:>22}", "Account", "Debit", "Credit");
    for r in &tb.rows {
        let d = if r.debit.minor != 0 {
            r.debit.money().format()
        } else {
            String::new()
        };
        let c = if r.credit.minor != 0 {
            r.credit.money().format()
        } else {
            String::new()
        };
        println!("  {:<width$}  {d:>22}  {c:>22}", r.account);
    }
    for t in &tb.totals {
        println!(
            "  {:<width$}  {:>22}  {:>22}",
            format!("Total {}", t.currency.to_uppercase()),
            t.debits.money().format(),
            t.credits.money().format()
        );
    }
}

pub fn postings(ws: &Workspace, page: &PostingPage) {
    if page.postings.is_empty() {
        println!("No postings match.");
        return;
    }
    for p in &page.postings {
        println!(
            "  {}  {:<14} {:<40} {:>18}  {:<20} {}",
            local_time(ws, p.created_at),
            p.entry_id,
            p.account,
            p.amount.money().format(),
            p.entry_type,
            p.stripe_object_id.as_deref().unwrap_or("")
        );
    }
    if let Some((t, s)) = page.next {
        println!("More: add --after {t}/{s}");
    }
}

pub fn general_ledger(ws: &Workspace, gl: &GeneralLedger) {
    println!("General ledger of {}", gl.account);
    println!(
        "  Opening balance  {}",
        if gl.opening.is_empty() {
            "0".into()
        } else {
            amounts(&gl.opening)
        }
    );
    for l in &gl.lines {
        let p = &l.posting;
        println!(
            "  {}  {:<14} {:<20} {:>18} {:>20}  {}",
            local_time(ws, p.created_at),
            p.entry_id,
            p.entry_type,
            p.amount.money().format(),
            l.running.money().format(),
            p.description.as_deref().unwrap_or("")
        );
    }
    println!(
        "  Closing balance  {}",
        if gl.closing.is_empty() {
            "0".into()
        } else {
            amounts(&gl.closing)
        }
    );
    if gl.truncated {
        println!("  (more postings than shown: narrow the period or raise --limit)");
    }
}

pub use closebook_engine::stripe::coverage::format_bps as bps;

/// An amount in a currency's minor units, formatted with its decimals and code.
pub fn money(ws: &Workspace, minor: i64, currency: &str) -> String {
    match ws.units().lookup(currency) {
        Ok(u) => closebook_engine::money::Money::new(minor, u).format(),
        Err(_) => format!("{minor} {currency} (minor units)"),
    }
}

pub fn stripe_balance(ws: &Workspace, lines: &[closebook_engine::stripe::sync::BalanceLine]) {
    if lines.is_empty() {
        return;
    }
    println!("Stripe balance:");
    for l in lines {
        println!(
            "  {:<5} available {:>18}   pending {:>18}",
            l.currency.to_uppercase(),
            money(ws, l.available, &l.currency),
            money(ws, l.pending, &l.currency)
        );
    }
}

pub fn coverage(ws: &Workspace, lines: &[closebook_engine::stripe::coverage::CoverageLine]) {
    if lines.is_empty() {
        return;
    }
    println!("Coverage of creator obligations:");
    for l in lines {
        println!(
            "  {}  {:<5} available {:>18}  obligations {:>18}  ratio {:>10}  risk {}",
            local_time(ws, l.at),
            l.currency.to_uppercase(),
            money(ws, l.available, &l.currency),
            money(ws, l.obligations, &l.currency),
            l.ratio_bps.map(bps).unwrap_or_else(|| "—".into()),
            l.risk.as_str()
        );
    }
}

pub fn stripe_status(
    ws: &Workspace,
    s: &closebook_engine::stripe::status::MirrorStatus,
    key: &closebook_engine::stripe::keys::KeySource,
) {
    use closebook_engine::stripe::keys::KeySource;
    let where_from = match key {
        KeySource::Environment { kind: Some(k) } => format!("{k}… from STRIPE_API_KEY"),
        KeySource::Environment { kind: None } => {
            "STRIPE_API_KEY is set but is not a Stripe secret or restricted key".to_string()
        }
        KeySource::Keychain { kind } => format!("{kind}… in the OS keychain"),
        KeySource::NotSet => {
            "none stored (closebook stripe set-key, or STRIPE_API_KEY)".to_string()
        }
        KeySource::KeychainUnavailable { detail } => format!(
            "the OS keychain cannot be asked ({detail}); give the key through STRIPE_API_KEY"
        ),
    };
    println!("Stripe key  {where_from}");
    println!("Objects mirrored:");
    for t in &s.types {
        let newest = t
            .newest_created
            .and_then(|c| Timestamp::from_second(c).ok())
            .map(|c| format!("newest {}", local_time(ws, c)))
            .unwrap_or_default();
        println!("  {:<20} {:>9}  {newest}", t.object_type, t.objects);
    }
    match s.runs.first() {
        None => println!("No sync yet: closebook sync stripe"),
        Some(r) => {
            println!(
                "Last sync   run {} {} at {}: {} pages, {} requests, {} retries, {} added, {} changed",
                r.id,
                r.outcome,
                local_time(ws, r.started_at),
                r.pages,
                r.requests,
                r.retries,
                r.objects_added,
                r.objects_changed
            );
            if let Some(m) = &r.message {
                println!("            {m}");
            }
        }
    }
    if !s.open_windows.is_empty() {
        println!(
            "{} window(s) of an interrupted sync remain; the next sync continues them.",
            s.open_windows.len()
        );
    }
    stripe_balance(ws, &s.balance);
}
