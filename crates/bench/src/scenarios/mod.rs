//! One module per scenario; each returns a [`crate::report::Report`].

pub mod import;
pub mod lookup;
pub mod read;
pub mod scope;
pub mod seal;
pub mod verify;
