//! A map with a ceiling, so that a flood of made-up accounts or addresses cannot grow the
//! sign-in state without bound. When full, entries with nothing left to remember go first;
//! if that is not enough, the tenth touched longest ago.

use std::collections::HashMap;
use std::hash::Hash;

use time::OffsetDateTime;

pub trait Aged {
    /// When the entry last changed.
    fn touched(&self) -> OffsetDateTime;
    /// Whether forgetting the entry now changes nothing.
    fn forgettable(&self, now: OffsetDateTime) -> bool;
}

#[derive(Debug)]
pub struct Bounded<K, V> {
    map: HashMap<K, V>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Aged> Bounded<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { map: HashMap::new(), capacity: capacity.max(1) }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// The entry for `key`, made with `make` if absent (making room first when full).
    pub fn entry(&mut self, key: K, now: OffsetDateTime, make: impl FnOnce() -> V) -> &mut V {
        self.reserve(&key, now);
        self.map.entry(key).or_insert_with(make)
    }

    pub fn insert(&mut self, key: K, value: V, now: OffsetDateTime) {
        self.reserve(&key, now);
        self.map.insert(key, value);
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
    }

    pub fn retain(&mut self, keep: impl FnMut(&K, &mut V) -> bool) {
        self.map.retain(keep);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    fn reserve(&mut self, key: &K, now: OffsetDateTime) {
        if !self.map.contains_key(key) && self.map.len() >= self.capacity {
            self.make_room(now);
        }
    }

    fn make_room(&mut self, now: OffsetDateTime) {
        self.map.retain(|_, v| !v.forgettable(now));
        if self.map.len() < self.capacity {
            return;
        }
        let mut ages: Vec<OffsetDateTime> = self.map.values().map(Aged::touched).collect();
        let cut = (self.capacity / 10).max(1);
        let (_, &mut oldest_kept, _) = ages.select_nth_unstable(cut - 1);
        let mut removed = 0;
        self.map.retain(|_, v| {
            let remove = removed < cut && v.touched() <= oldest_kept;
            removed += usize::from(remove);
            !remove
        });
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    #[derive(Debug)]
    struct Entry {
        touched: OffsetDateTime,
        busy: bool,
    }

    impl Aged for Entry {
        fn touched(&self) -> OffsetDateTime {
            self.touched
        }
        fn forgettable(&self, _: OffsetDateTime) -> bool {
            !self.busy
        }
    }

    #[test]
    fn forgettable_entries_go_first_then_the_stalest() {
        let t0 = datetime!(2025-01-01 0:00 UTC);
        let mut map = Bounded::new(20);
        for i in 0..20 {
            let touched = t0 + Duration::seconds(i);
            map.insert(i, Entry { touched, busy: i != 19 }, touched);
        }
        // Full: the one idle entry makes room, the busy ones stay.
        map.insert(100, Entry { touched: t0, busy: true }, t0);
        assert_eq!(map.len(), 20);
        assert!(map.get(&19).is_none() && map.get(&0).is_some());
        // Full of busy entries: the two touched longest ago go (a tenth of 20).
        map.insert(101, Entry { touched: t0 + Duration::hours(1), busy: true }, t0);
        assert_eq!(map.len(), 19);
        assert!(map.get(&100).is_none() && map.get(&0).is_none(), "the stalest went");
        assert!(map.get(&1).is_some() && map.get(&101).is_some());
    }

    #[test]
    fn never_more_than_the_capacity() {
        let t0 = datetime!(2025-01-01 0:00 UTC);
        let mut map = Bounded::new(50);
        for i in 0..10_000 {
            map.insert(i, Entry { touched: t0 + Duration::seconds(i), busy: true }, t0);
            assert!(map.len() <= 50);
        }
        assert!(map.get(&9_999).is_some(), "the newest is kept");
    }
}
