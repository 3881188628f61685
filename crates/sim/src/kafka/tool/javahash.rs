//! The iteration order of `java.util.HashMap`/`HashSet`, where the tools print in it: the
//! rows of `--reset-offsets` (a map keyed by `TopicPartition`) and which conflicting option
//! a usage error names first (a set of option specs). Order is by bucket (the spread hash
//! masked by the table size), then by insertion within a bucket.

/// `String.hashCode`.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `TopicPartition.hashCode`.
pub fn topic_partition_hash(topic: &str, partition: u32) -> i32 {
    31i32
        .wrapping_add(partition as i32)
        .wrapping_mul(31)
        .wrapping_add(string_hash(topic))
}

/// jopt-simple's `OptionSpec.hashCode`: its list of names (one name here).
pub fn option_hash(name: &str) -> i32 {
    31i32.wrapping_add(string_hash(name))
}

/// The table size a `HashMap` grown one insertion at a time ends with.
fn table_size(n: usize) -> usize {
    let mut cap = 16;
    while n * 4 > cap * 3 {
        cap *= 2;
    }
    cap
}

/// The order a HashMap/HashSet iterates keys inserted in the order of `hashes`.
pub fn iteration_order(hashes: &[i32]) -> Vec<usize> {
    let mask = table_size(hashes.len()) - 1;
    let bucket = |h: i32| {
        let h = h as u32;
        ((h ^ (h >> 16)) as usize) & mask
    };
    let mut idx: Vec<usize> = (0..hashes.len()).collect();
    idx.sort_by_key(|&i| (bucket(hashes[i]), i));
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_jvm() {
        // String.hashCode of these, as the JVM computes it (s[0]·31^(n-1) + … + s[n-1]).
        assert_eq!(string_hash("group"), 98_629_247);
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("customers.entity_changed"), 433_725_713);
    }

    #[test]
    fn small_maps_iterate_by_bucket_then_insertion() {
        // 17 and 1 share bucket 1; 0 is bucket 0.
        assert_eq!(iteration_order(&[17, 0, 1]), [1, 0, 2]);
        assert_eq!(table_size(12), 16);
        assert_eq!(table_size(13), 32);
    }
}
