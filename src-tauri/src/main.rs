//! The Closebook desktop app: a thin Tauri 2 shell. Each IPC command forwards to the same
//! method of `closebook_app::App` on a blocking worker thread (never the UI thread) and
//! returns its transport type or a `{code, message, problems}` error. Nothing else lives here.
//!
//! Command line: `closebook-desktop [--demo | --workspace PATH [--key-file FILE]]` opens that
//! workspace before the window appears.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::sync::Arc;

use closebook_app::accounts::*;
use closebook_app::bindings::PROGRESS_EVENT;
use closebook_app::ledger_reports::*;
use closebook_app::payouts::*;
use closebook_app::pull::*;
use closebook_app::reconcile::*;
use closebook_app::reports::*;
use closebook_app::views::*;
use closebook_app::{App, EventSink};
use closebook_engine::ErrorCode;
use closebook_engine::secrets::OsKeychain;
use tauri::{Emitter, Manager, State};

/// Sends progress to the window as the `closebook://progress` event.
struct WindowEvents(tauri::AppHandle);

impl EventSink for WindowEvents {
    fn progress(&self, event: ProgressEvent) {
        if let Err(e) = self.0.emit(PROGRESS_EVENT, event) {
            tracing::warn!("cannot send a progress event: {e}");
        }
    }
}

struct Shared(Arc<App>);

/// One Tauri command per entry of `for_each_command!`, each running its `App` method on
/// Tauri's blocking pool so the window never waits on the database.
macro_rules! tauri_commands {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[tauri::command(rename_all = "snake_case")]
            async fn $name(app: State<'_, Shared>, $($arg: $ty),*) -> Result<$ret, CommandError> {
                let app = app.0.clone();
                tauri::async_runtime::spawn_blocking(move || app.$name($($arg),*))
                    .await
                    .map_err(|e| CommandError::new(
                        ErrorCode::Internal,
                        format!("the command stopped unexpectedly ({e}); please report it"),
                    ))?
            }
        )*

        /// The command names, for the test that keeps the ACL in step.
        #[cfg(test)]
        const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }
    };
}
closebook_app::for_each_command!(tauri_commands);

/// What to open at start, from the command line.
#[derive(Debug, Default, PartialEq)]
enum Startup {
    #[default]
    Nothing,
    Demo,
    Workspace {
        path: String,
        key_file: Option<String>,
    },
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Startup, String> {
    let mut startup = Startup::Nothing;
    let mut key_file = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--demo" => startup = Startup::Demo,
            "--workspace" | "-w" => {
                let path = args.next().ok_or("--workspace needs a folder")?;
                startup = Startup::Workspace {
                    path,
                    key_file: None,
                };
            }
            "--key-file" => key_file = Some(args.next().ok_or("--key-file needs a file")?),
            // Arguments the platform or a WebDriver session may pass along are not ours.
            other if other.starts_with("-psn_") => {}
            other => {
                return Err(format!(
                    "unknown argument `{other}`; use --demo or --workspace PATH [--key-file FILE]"
                ));
            }
        }
    }
    if let Startup::Workspace { key_file: k, .. } = &mut startup {
        *k = key_file;
    } else if key_file.is_some() {
        return Err("--key-file goes with --workspace".into());
    }
    Ok(startup)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOSEBOOK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Whether WebKitGTK should paint on the CPU without compositing: on Linux with no GPU
/// render node (a virtual machine, a remote desktop, a CI runner) or with OpenGL forced to
/// software, WebKit would composite every frame through Mesa's software emulation of OpenGL
/// (llvmpipe). Measured on such a machine (BENCHMARKS.md), that emulation took most of the
/// CPU while scrolling the ledger (frames of 38 ms at the median); painting on the CPU without
/// it keeps up with the display. A value the user set is left alone.
fn wants_cpu_rendering(
    has_render_node: bool,
    gl_forced_to_software: bool,
    user_chose: bool,
) -> bool {
    !user_chose && (!has_render_node || gl_forced_to_software)
}

#[cfg(target_os = "linux")]
fn configure_webkit_rendering() -> bool {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let has_render_node = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    let software =
        std::env::var_os("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| v != "0" && !v.is_empty());
    let cpu = wants_cpu_rendering(has_render_node, software, std::env::var_os(VAR).is_some());
    if cpu {
        // SAFETY: the first statement of `main`, before any thread exists (tracing, Tauri
        // and WebKit start theirs later), so no other thread can read the environment.
        unsafe { std::env::set_var(VAR, "1") };
    }
    cpu
}

#[cfg(not(target_os = "linux"))]
fn configure_webkit_rendering() -> bool {
    false
}

fn main() {
    let cpu_rendering = configure_webkit_rendering();
    init_tracing();
    if cpu_rendering {
        tracing::info!("no GPU found: the webview paints on the CPU without compositing");
    }
    let startup = match parse_args(std::env::args().skip(1)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("closebook-desktop: {e}");
            std::process::exit(2);
        }
    };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(move |tauri_app| {
            let data_dir: PathBuf = match App::default_data_dir() {
                Some(d) => d,
                None => tauri_app.path().app_data_dir()?,
            };
            let app = Arc::new(App::new(
                data_dir,
                Arc::new(OsKeychain),
                Arc::new(WindowEvents(tauri_app.handle().clone())),
                Arc::new(jiff::Timestamp::now),
            ));
            // A failure here is not fatal: the window opens and shows the start screen,
            // where the same action can be retried and its error explained.
            let opened = match &startup {
                Startup::Nothing => Ok(()),
                Startup::Demo => app.open_demo("startup".into()).map(drop),
                Startup::Workspace { path, key_file } => app.open_workspace_at_start(OpenArgs {
                    path: path.clone(),
                    key_file: key_file.clone(),
                }),
            };
            if let Err(e) = opened {
                tracing::warn!("could not open the workspace at start: {}", e.message);
            }
            tauri_app.manage(Shared(app));
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("closebook-desktop: cannot start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared_commands() -> Vec<String> {
        include_str!("../commands.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect()
    }

    #[test]
    fn the_webview_paints_on_the_cpu_only_without_a_gpu_and_never_against_the_users_choice() {
        // (has a GPU render node, OpenGL forced to software, the user set the variable)
        assert!(!wants_cpu_rendering(true, false, false), "a GPU composites");
        assert!(
            wants_cpu_rendering(false, false, false),
            "no GPU: CPU painting"
        );
        assert!(
            wants_cpu_rendering(true, true, false),
            "software OpenGL: CPU painting"
        );
        assert!(
            !wants_cpu_rendering(false, false, true),
            "the user's choice stands"
        );
        assert!(
            !wants_cpu_rendering(true, true, true),
            "the user's choice stands"
        );
    }

    #[test]
    fn acl_declares_exactly_the_commands_the_shell_serves() {
        let served: Vec<String> = COMMAND_NAMES.iter().map(|s| s.to_string()).collect();
        assert_eq!(declared_commands(), served);
    }

    #[test]
    fn the_capability_grants_only_our_commands_events_and_the_file_dialogs() {
        let cap: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        let granted: Vec<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let mut expected: Vec<String> = vec![
            "core:event:allow-listen".into(),
            "core:event:allow-unlisten".into(),
            "dialog:allow-open".into(),
            "dialog:allow-save".into(),
        ];
        expected.extend(
            declared_commands()
                .iter()
                .map(|c| format!("allow-{}", c.replace('_', "-"))),
        );
        assert_eq!(granted, expected);
        assert_eq!(cap["windows"], serde_json::json!(["main"]));
    }

    #[test]
    fn the_configuration_loads_nothing_remote() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        let csp = &conf["app"]["security"]["csp"];
        assert_eq!(csp["default-src"], "'self'");
        assert_eq!(csp["script-src"], "'self'");
        for (directive, value) in csp.as_object().unwrap() {
            let v = value.as_str().unwrap();
            assert!(
                !v.contains("https:") && !v.contains('*'),
                "{directive} allows remote content: {v}"
            );
        }
        assert!(conf["app"]["windows"][0].get("url").is_none());
    }

    #[test]
    fn startup_arguments() {
        let p = |a: &[&str]| parse_args(a.iter().map(|s| s.to_string()));
        assert_eq!(p(&[]), Ok(Startup::Nothing));
        assert_eq!(p(&["--demo"]), Ok(Startup::Demo));
        assert_eq!(
            p(&["--workspace", "/w", "--key-file", "/k"]),
            Ok(Startup::Workspace {
                path: "/w".into(),
                key_file: Some("/k".into())
            })
        );
        assert!(p(&["--workspace"]).is_err());
        assert!(p(&["--key-file", "/k"]).is_err());
        assert!(p(&["--frobnicate"]).is_err());
    }
}
