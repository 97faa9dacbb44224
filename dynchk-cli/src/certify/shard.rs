//! Partitioning a matrix over machines: a deterministic hash of each entry's name picks its
//! shard, so adding entries never moves the others, and every engine (a CI matrix, Kubernetes
//! Indexed Jobs, Slurm arrays) only has to say which shard a job is.

use anyhow::{bail, Context, Result};
use std::fmt;

/// FNV-1a, 64 bits: stable across Rust versions and machines (std's hashers are not).
pub fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// [`hash`] as 16 hex digits.
pub fn hash_hex(bytes: &[u8]) -> String {
    format!("{:016x}", hash(bytes))
}

/// Shard `index` of `count`, 1-based as written on the command line (`--shard 3/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?} is not I/N with 1 <= I <= N (e.g. --shard 3/8)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the entry named `name` belongs to this shard.
    pub fn holds(&self, name: &str) -> bool {
        hash(name.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// The shard to run: `--shard`, else the engine's environment (`JOB_COMPLETION_INDEX` with
/// `--shards N`, or `SLURM_ARRAY_TASK_ID`/`SLURM_ARRAY_TASK_COUNT`), else none (everything).
pub fn choose(
    explicit: Option<Shard>,
    shards: Option<u32>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
    if explicit.is_some() {
        return Ok(explicit);
    }
    let number = |var: &str| -> Result<Option<u32>> {
        env(var)
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .with_context(|| format!("${var} is {v:?}, not a number"))
            })
            .transpose()
    };
    if let Some(i) = number("JOB_COMPLETION_INDEX")? {
        let Some(count) = shards else {
            bail!(
                "$JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the number of \
                 shards: pass --shards N (the Job's `completions`)"
            );
        };
        return in_range(i + 1, count, "$JOB_COMPLETION_INDEX + 1").map(Some);
    }
    if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let count = match (shards, number("SLURM_ARRAY_TASK_COUNT")?) {
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => bail!(
                "$SLURM_ARRAY_TASK_ID is set but not $SLURM_ARRAY_TASK_COUNT; pass --shards N"
            ),
        };
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        return in_range(id.saturating_sub(min) + 1, count, "the Slurm array index").map(Some);
    }
    if shards.is_some() {
        bail!("--shards N needs the shard index: --shard I/N, or $JOB_COMPLETION_INDEX / $SLURM_ARRAY_TASK_ID");
    }
    Ok(None)
}

fn in_range(index: u32, count: u32, what: &str) -> Result<Shard> {
    if count == 0 || index > count {
        bail!("{what} gives shard {index} of {count}, outside 1..={count}");
    }
    Ok(Shard { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn every_name_is_in_exactly_one_shard_and_stays_there() {
        let names: Vec<String> = (0..200).map(|i| format!("entry-{i}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|index| Shard { index, count: 4 }).collect();
        for n in &names {
            assert_eq!(shards.iter().filter(|s| s.holds(n)).count(), 1, "{n}");
        }
        // Known values: the partition is part of the contract between jobs of one run.
        assert_eq!(hash_hex(b""), "cbf29ce484222325");
        assert_eq!(hash_hex(b"a"), "af63dc4c8601ec8c");
        let per: Vec<usize> = shards
            .iter()
            .map(|s| names.iter().filter(|n| s.holds(n)).count())
            .collect();
        assert!(per.iter().all(|&c| c > 30), "{per:?}");
    }

    #[test]
    fn the_shard_comes_from_the_flag_then_the_engines() {
        let s3 = Shard { index: 3, count: 8 };
        assert_eq!("3/8".parse::<Shard>(), Ok(s3));
        assert!("0/8".parse::<Shard>().is_err() && "9/8".parse::<Shard>().is_err());
        assert_eq!(choose(Some(s3), None, env(&[])).unwrap(), Some(s3));
        assert_eq!(
            choose(None, Some(8), env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap(),
            Some(s3)
        );
        let e = choose(None, None, env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap_err();
        assert!(format!("{e}").contains("--shards N"), "{e}");
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(choose(None, None, env(&slurm)).unwrap(), Some(s3));
        assert_eq!(choose(None, None, env(&[])).unwrap(), None);
    }
}
