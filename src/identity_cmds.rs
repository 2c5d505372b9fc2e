//! `identity create|list|export-card`: the identities of this device, made here.

use super::*;

use clap::Subcommand;
use closebook_engine::secrets::SecretStore;

#[derive(Subcommand)]
pub(super) enum IdentityCommand {
    /// Make an identity on this device: an Ed25519 key pair whose private half stays in this
    /// computer's keychain, and a public card (name, key, fingerprint, self-signed) to send
    /// to the admin who puts you on a company's roster.
    Create {
        #[arg(long)]
        name: String,
    },
    /// The identities on this device, with their fingerprints.
    List,
    /// Write an identity's card (named by name or fingerprint) to a new file.
    ExportCard {
        who: String,
        #[arg(long)]
        out: PathBuf,
    },
}

fn data_dir() -> Result<PathBuf, Failure> {
    api::demo::data_dir().ok_or_else(|| {
        Failure::Usage("cannot find a data folder for identities: set CLOSEBOOK_DATA_DIR".into())
    })
}

pub(super) fn cmd_identity(ctx: &Ctx, cmd: IdentityCommand) -> Result<(), Failure> {
    let dir = data_dir()?;
    match cmd {
        IdentityCommand::Create { name } => {
            let card = api::identity::create(&dir, &ctx.secrets, &name, ctx.now).map_err(usage)?;
            if ctx.json {
                print_json(&card);
            } else {
                println!(
                    "Made the identity {} on this device; its private key is in {} and never leaves it.",
                    card.name,
                    ctx.secrets.describe()
                );
                println!(
                    "Fingerprint: {}   (read it to your admin when they add you)",
                    card.fingerprint
                );
                println!(
                    "Send your card: closebook identity export-card \"{}\" --out card.json",
                    card.name
                );
            }
        }
        IdentityCommand::List => {
            let (cards, refused) = api::identity::list(&dir, &ctx.secrets)?;
            if ctx.json {
                let list: Vec<serde_json::Value> = cards
                    .iter()
                    .map(|(c, here)| serde_json::json!({"card": c, "key_here": here}))
                    .collect();
                print_json(&serde_json::json!({"identities": list, "refused": refused}));
            } else if cards.is_empty() {
                println!(
                    "No identity on this device: `closebook identity create --name \"Your Name\"`."
                );
            } else {
                for (c, here) in &cards {
                    println!(
                        "{:<24} {}  made {}  key {}",
                        c.name,
                        c.fingerprint,
                        c.created_at,
                        if *here {
                            "here"
                        } else {
                            "NOT in this keychain"
                        }
                    );
                }
            }
            for r in &refused {
                eprintln!("warning: a card that does not verify was skipped: {r}");
            }
        }
        IdentityCommand::ExportCard { who, out } => {
            let card = api::identity::export_card(&dir, &ctx.secrets, &who, &out).map_err(usage)?;
            if ctx.json {
                print_json(&card);
            } else {
                println!(
                    "Wrote {}'s card to {} (fingerprint {}): send it to your admin.",
                    card.name,
                    out.display(),
                    card.fingerprint
                );
            }
        }
    }
    Ok(())
}
