//! `init`, `status` and `delete-workspace`.

use super::*;

use closebook_engine::ledger;
use closebook_engine::secrets::SecretStore;
use closebook_engine::workspace::{FreshIdentity, InitOptions, Mode, Workspace};

pub(super) fn cmd_init(
    ctx: &Ctx,
    mode: &str,
    timezone: &str,
    name: Option<String>,
    map: &[String],
) -> Result<(), Failure> {
    use closebook_engine::accounts;
    let dir = ctx.dir()?;
    let mode = Mode::parse(mode)
        .ok_or_else(|| Failure::Usage(format!("--mode must be test or live, not {mode}")))?;
    // The map is checked before anything is created: a bad one leaves no workspace behind.
    let changes = map
        .iter()
        .map(|m| accounts::parse_assignment(m))
        .collect::<Result<Vec<_>, _>>()?;
    accounts::apply(&accounts::RoleMap::default(), &changes)?;
    let name = name.unwrap_or_else(|| {
        dir.file_name()
            .map_or("Workspace".into(), |n| n.to_string_lossy().into_owned())
    });
    let ws = Workspace::init(
        dir,
        InitOptions {
            name,
            mode,
            timezone: timezone.to_string(),
            demo: false,
        },
        &ctx.key,
        &ctx.secrets,
        FreshIdentity::generate()?,
        &ctx.op(),
    )?;
    if !changes.is_empty() {
        accounts::set(&ws, None, &changes, &ctx.op())?;
    }
    if ctx.json {
        print_json(ws.info());
    } else {
        let info = ws.info();
        println!(
            "Created workspace \"{}\" at {} ({} mode, time zone {}).",
            info.name,
            dir.display(),
            info.mode.as_str(),
            info.timezone
        );
        println!("Its database key is in {}.", ctx.key.describe(&ctx.secrets));
        println!(
            "Next: closebook -w {} import ledger FILE   or   closebook -w {} pull postgres --url URL",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

pub(super) fn cmd_status(ctx: &Ctx) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let summary = ledger::summary(&ws)?;
    let recent = closebook_engine::audit::recent(ws.connection(), 5)?;
    if ctx.json {
        print_json(
            &serde_json::json!({"workspace": ws.info(), "mirror": summary, "recent_activity": recent}),
        );
    } else {
        render::workspace_header(&ws);
        render::summary(&ws, &summary);
        println!();
        println!("Recent activity:");
        for r in recent {
            println!(
                "  #{:<4} {}  {:<16} {}  ({})",
                r.seq,
                render::local_time(&ws, r.at),
                r.action,
                r.summary,
                r.actor
            );
        }
    }
    Ok(())
}

pub(super) fn cmd_delete_workspace(ctx: &Ctx, confirm: &str) -> Result<(), Failure> {
    let ws = ctx.open()?;
    let info = ws.info().clone();
    if confirm != info.id {
        return Err(Failure::Usage(format!(
            "--confirm must be this workspace's id ({}): nothing was deleted",
            info.id
        )));
    }
    ws.destroy(&ctx.key, &ctx.secrets)?;
    if ctx.json {
        print_json(&serde_json::json!({ "deleted": info.id, "path": info.path }));
    } else {
        println!(
            "Deleted workspace {} ({}) at {} and its entries in {}.",
            info.name,
            info.id,
            info.path.display(),
            ctx.secrets.describe()
        );
    }
    Ok(())
}
