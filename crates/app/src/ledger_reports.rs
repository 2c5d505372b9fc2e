//! The Ledger screen's trial balance and general ledger, on screen (they were only exports):
//! commands and their transport types.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::views::{AmountView, PostingView};
use crate::{App, Result, api};

#[derive(Debug, Clone, Serialize, TS)]
pub struct TrialBalanceRowView {
    pub account: String,
    pub debit: AmountView,
    pub credit: AmountView,
    pub balance: AmountView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CurrencyTotalsView {
    pub currency: String,
    pub debits: AmountView,
    pub credits: AmountView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TrialBalanceView {
    /// The day it is at the end of (`None`: every posting).
    pub as_of: Option<String>,
    pub rows: Vec<TrialBalanceRowView>,
    /// Debits equal credits in every currency (the engine refuses to report otherwise).
    pub totals: Vec<CurrencyTotalsView>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct GeneralLedgerArgs {
    /// The account, and every account below it.
    pub account: String,
    /// Days (YYYY-MM-DD) in the workspace's time zone; none: from the first, to the last.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Lines at most (the export has them all).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct GeneralLedgerLineView {
    pub posting: PostingView,
    /// The account's balance after this posting.
    pub running: AmountView,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct GeneralLedgerView {
    pub account: String,
    pub opening: Vec<AmountView>,
    pub lines: Vec<GeneralLedgerLineView>,
    pub closing: Vec<AmountView>,
    /// More lines than the limit: the export has them all.
    pub truncated: bool,
}

/// Lines of a general ledger shown at most: a screenful many times over; the export has all.
pub const MAX_GL_LINES: u32 = 5_000;

fn day_or_none(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// A day typed in a date field, as the bound of that day.
fn bound(ws: &closebook_engine::Workspace, day: &str, end_of_day: bool) -> Result<jiff::Timestamp> {
    Ok(api::ledger::instant(
        ws,
        &crate::day_text(day)?,
        end_of_day,
    )?)
}

impl App {
    /// Every account's debits and credits, with totals per currency, at the end of `as_of`.
    pub fn ledger_trial_balance(&self, as_of: Option<String>) -> Result<TrialBalanceView> {
        self.read(|ws| {
            let day = day_or_none(as_of.as_deref());
            let at = day.map(|d| bound(ws, d, true)).transpose()?;
            let tb = api::ledger::trial_balance(ws, at)?;
            Ok(TrialBalanceView {
                as_of: day.map(String::from),
                rows: tb
                    .rows
                    .into_iter()
                    .map(|r| TrialBalanceRowView {
                        account: r.account,
                        debit: r.debit.into(),
                        credit: r.credit.into(),
                        balance: r.balance.into(),
                    })
                    .collect(),
                totals: tb
                    .totals
                    .into_iter()
                    .map(|t| CurrencyTotalsView {
                        currency: t.currency.to_uppercase(),
                        debits: t.debits.into(),
                        credits: t.credits.into(),
                    })
                    .collect(),
            })
        })
    }

    /// An account's postings over the period with its opening, running and closing balance.
    pub fn ledger_general_ledger(&self, args: GeneralLedgerArgs) -> Result<GeneralLedgerView> {
        self.read(|ws| {
            let from = day_or_none(args.from.as_deref())
                .map(|d| bound(ws, d, false))
                .transpose()?;
            let to = day_or_none(args.to.as_deref())
                .map(|d| bound(ws, d, true))
                .transpose()?;
            let limit = args.limit.unwrap_or(MAX_GL_LINES).clamp(1, MAX_GL_LINES);
            let gl = api::ledger::general_ledger(ws, args.account.trim(), from, to, limit)?;
            Ok(GeneralLedgerView {
                account: gl.account,
                opening: gl.opening.into_iter().map(Into::into).collect(),
                lines: gl
                    .lines
                    .into_iter()
                    .map(|l| GeneralLedgerLineView {
                        posting: PostingView::new(ws, l.posting),
                        running: l.running.into(),
                    })
                    .collect(),
                closing: gl.closing.into_iter().map(Into::into).collect(),
                truncated: gl.truncated,
            })
        })
    }
}
