//! `init`, `status` and `delete-workspace`.

use super::*;

use closebook_engine::secrets::SecretStore;

pub(super) fn cmd_init(
    ctx: &Ctx,
    mode: &str,
    timezone: &str,
    name: Option<String>,
    map: &[String],
) -> Result<(), Failure> {
    let dir = ctx.dir()?;
    api::workspace::mode(mode).map_err(usage)?;
    let name = name.unwrap_or_else(|| {
        dir.file_name()
            .map_or("Workspace".into(), |n| n.to_string_lossy().into_owned())
    });
    let new = api::workspace::NewWorkspace {
        name,
        mode,
        timezone,
        map,
    };
    let ws = api::workspace::create(dir, new, &ctx.key, &ctx.secrets, &ctx.op())?;
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
    let (summary, recent) = api::workspace::status(&ws, 5)?;
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
    let info = api::workspace::delete(ws, confirm, &ctx.key, &ctx.secrets).map_err(usage)?;
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
