//! `ColumnMapping::parse_pairs`, the CLI's and API's textual mapping.

use crate::common;

use common::{ok_rows, pairs, write_file};
use tutela_import::{ColumnMapping, Encoding, ImportError};

fn parse(pairs: &[&str]) -> Result<ColumnMapping, ImportError> {
    let pairs: Vec<String> = pairs.iter().map(|p| (*p).to_owned()).collect();
    ColumnMapping::parse_pairs(&pairs)
}

#[test]
fn parsed_pairs_map_a_real_file() {
    let mapping = parse(&["name=Last Name+First Name", "email = E-mail ", "notes=Notes"]).unwrap();
    assert_eq!(mapping.fields().collect::<Vec<_>>(), ["name", "email", "notes"]);
    let file = write_file("c.csv", b"First Name,Last Name,E-mail,Notes\nJohn,Smith,js@x,hi\n");
    let rows = ok_rows(&file, Encoding::Auto, &mapping);
    assert_eq!(pairs(&rows[0]), [("name", "Smith John"), ("email", "js@x"), ("notes", "hi")]);
}

#[test]
fn bad_pairs_are_named_in_the_error() {
    for (bad, reason) in [
        ("nameName", "expected field=Header"),
        ("=Name", "field id"),
        ("name=", "header name"),
        ("name=Last Name+", "header name"),
        ("full name=Name", "spaces"),
    ] {
        let err = parse(&["email=Email", bad]).unwrap_err();
        assert!(matches!(err, ImportError::Mapping(_)), "{bad}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(&format!("\"{bad}\"")), "{message}");
        assert!(message.contains(reason), "{message}");
    }
}

#[test]
fn a_field_mapped_twice_is_an_error() {
    let message = parse(&["email=Email", "email=E-mail"]).unwrap_err().to_string();
    assert!(message.contains("\"email=E-mail\"") && message.contains("mapped twice"), "{message}");
}

#[test]
fn empty_input_gives_an_empty_mapping() {
    assert!(parse(&["", "# nothing yet"]).unwrap().is_empty());
}
