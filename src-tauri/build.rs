//! Declares the app's commands to Tauri's access control (each gets an `allow-<name>`
//! permission, granted in `capabilities/main.json`), then runs Tauri's build step.

fn main() {
    println!("cargo:rerun-if-changed=commands.txt");
    let commands: &'static [&'static str] = Box::leak(
        include_str!("commands.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build step");
}
