//! `dynchk explain`: the specification and checks of one interface, as the generator saw them when
//! this binary was built (embedded by build.rs, so that no database is needed at run time).

use crate::cli::ExplainArgs;
use anyhow::{bail, Result};

mod entries {
    include!(concat!(env!("OUT_DIR"), "/explain_entries.rs"));
}

/// Runs `dynchk explain`.
pub fn explain(args: ExplainArgs) -> Result<()> {
    print!("{}", lookup(&args.name)?);
    Ok(())
}

fn lookup(name: &str) -> Result<&'static str> {
    let entries = entries::ENTRIES;
    if let Ok(i) = entries.binary_search_by(|(n, _)| (*n).cmp(name)) {
        return Ok(entries[i].1);
    }
    let near: Vec<&str> = entries
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.contains(name) || name.contains(*n))
        .take(8)
        .collect();
    if near.is_empty() {
        bail!(
            "`{name}` is not an interface of the specification database (spec database {})",
            crate::DB_HASH
        );
    }
    bail!(
        "`{name}` is not an interface of the specification database; similar: {}",
        near.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_is_embedded_in_name_order() {
        let entries = entries::ENTRIES;
        assert!(entries.len() > 1000, "{} interfaces", entries.len());
        assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(lookup("read")
            .unwrap()
            .contains("read(int fd, void *buf, size_t count)"));
        let e = lookup("pipe3").unwrap_err().to_string();
        assert!(e.contains("similar:") && e.contains("pipe"), "{e}");
    }
}
