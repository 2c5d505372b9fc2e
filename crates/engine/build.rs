//! Embeds the schema migrations (`migrations/NNNN_name.sql`) in order: writes the list of
//! `include_str!`s that `workspace::schema::MIGRATIONS` is, refusing a gap, a duplicate or a
//! badly named file, so that a migration is added by adding a file.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(u32, String)> = std::fs::read_dir(&dir)
        .expect("crates/engine/migrations")
        .map(|e| {
            e.expect("a migration file")
                .file_name()
                .into_string()
                .expect("a UTF-8 name")
        })
        .filter(|n| n.ends_with(".sql"))
        .map(|n| {
            let number = n
                .split_once('_')
                .and_then(|(d, _)| (d.len() == 4).then(|| d.parse::<u32>().ok()).flatten())
                .unwrap_or_else(|| panic!("migration {n}: name it NNNN_what.sql"));
            (number, n)
        })
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for (i, (number, name)) in files.iter().enumerate() {
        assert_eq!(
            *number,
            i as u32 + 1,
            "migration {name}: migrations are numbered 1, 2, 3… with no gap or repeat"
        );
        println!("cargo:rerun-if-changed={}", dir.join(name).display());
        writeln!(
            out,
            "    include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/{name}\")),"
        )
        .unwrap();
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(target, out).expect("write migrations.rs");
}
