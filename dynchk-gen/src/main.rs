//! `dynchk-gen`: maintainer tools for the specification database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use dynchk_gen::build::Generator;
use dynchk_gen::coverage::Coverage;

/// Maintainer tools for dynchk's specification database: import the LSB data, lint the database,
/// generate the interposers, explain one interface, measure coverage.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:
  dynchk-gen check                       lint db/ (exit 1 naming each row at fault)
  dynchk-gen explain read                spec entry, checks and why, generated stub
  dynchk-gen coverage --format json      per-library coverage, and imports on this machine
  dynchk-gen generate --out /tmp/gen     write generated.rs, exports.map, layout.c
  dynchk-gen import-lsb ../shared/specdb re-import the LSB 2006 data into db/lsb/
  dynchk-gen import-gir                  regenerate db/semantics/gir/ from /usr/share/gir-1.0

The database defaults to $DYNCHK_SPEC_DB, else the db/ directory of this workspace."
)]
struct Cli {
    /// The database directory (schema.sql, lsb/, semantics/).
    #[arg(long, global = true, env = "DYNCHK_SPEC_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Import the LSB specdb MySQL dumps into DB/lsb/ (deterministic: twice gives the same bytes).
    ImportLsb {
        /// The directory holding Interface.init, Type.init, … (the LSB specdb dump).
        specdb: PathBuf,
        /// The libraries to import, comma-separated LSB names (default: those the database's
        /// `Library` table holds, so a re-import keeps the scope).
        #[arg(long, value_delimiter = ',', conflicts_with = "add")]
        libs: Vec<String>,
        /// Libraries to import besides those the `Library` table holds (`--add libX11`); see
        /// docs/adding-a-library.md.
        #[arg(long, value_delimiter = ',')]
        add: Vec<String>,
    },
    /// Turn the GObject-Introspection annotations of GLib, GObject and GModule into
    /// DB/semantics/gir/*.sem (generated, checked in; hand-written rules win over them).
    /// Needs the .gir files (Debian: libgirepository1.0-dev).
    ImportGir {
        /// The .gir files (default: GLib-2.0, GObject-2.0 and GModule-2.0 in /usr/share/gir-1.0).
        files: Vec<PathBuf>,
    },
    /// Lint the database; exits 1 and names table and row for each problem.
    Check,
    /// Render the interposers, struct validators, version script and layout check into DIR.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Show an interface: spec entry, C prototype, checks and why, generated stub.
    Explain { name: String },
    /// Per-library coverage: spec functions the host exports, generated, hand-coded, excluded,
    /// and the functions this machine's ELF objects import from each library, interposed or not.
    Coverage {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// A directory whose ELF objects' imports are counted, recursively (repeatable; default
        /// /usr/bin, /usr/sbin and /usr/lib/x86_64-linux-gnu).
        #[arg(long = "importers", value_name = "DIR")]
        importers: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dynchk-gen: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn default_db() -> PathBuf {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../db");
    db.canonicalize().unwrap_or(db)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let db = cli.db.unwrap_or_else(default_db);
    match cli.cmd {
        Cmd::ImportLsb {
            specdb,
            mut libs,
            add,
        } => {
            if !add.is_empty() {
                libs = dynchk_gen::lsb::libraries_in(&db)?;
                for a in add {
                    if !libs.contains(&a) {
                        libs.push(a);
                    }
                }
            }
            let libs: Vec<&str> = libs.iter().map(String::as_str).collect();
            let stats = dynchk_gen::lsb::import(&specdb, &db, &libs)
                .with_context(|| format!("importing {} into {}", specdb.display(), db.display()))?;
            println!("{stats}");
        }
        Cmd::ImportGir { mut files } => {
            if files.is_empty() {
                files = dynchk_gen::gir::DEFAULT_FILES.map(PathBuf::from).to_vec();
            }
            let stats = dynchk_gen::gir::import(&files, &db)
                .with_context(|| format!("importing GIR annotations into {}", db.display()))?;
            print!("{stats}");
        }
        Cmd::Check => {
            let problems = dynchk_gen::check(&db)?;
            for p in &problems {
                println!("{p}");
            }
            if !problems.is_empty() {
                eprintln!(
                    "dynchk-gen: {} problem(s) in {}",
                    problems.len(),
                    db.display()
                );
                return Ok(ExitCode::from(1));
            }
            println!("{}: no problems", db.display());
        }
        Cmd::Generate { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let o = dynchk_gen::build::run(&db, &out)?;
            println!(
                "{} interfaces generated into {}",
                o.generated,
                out.display()
            );
        }
        Cmd::Explain { name } => print!("{}", dynchk_gen::explain::explain(&db, &name)?),
        Cmd::Coverage { format, importers } => {
            let g = Generator::load(&db)?;
            let mut c = Coverage::of(&g);
            let dirs = if importers.is_empty() {
                dynchk_gen::coverage::IMPORTER_DIRS
                    .map(PathBuf::from)
                    .to_vec()
            } else {
                importers
            };
            c.imports_from(&g, &dirs);
            match format {
                Format::Text => print!("{}", c.text()),
                Format::Json => println!("{}", serde_json::to_string_pretty(&c)?),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
