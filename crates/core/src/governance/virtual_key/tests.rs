use super::*;

#[test]
fn a_generated_key_parses_and_verifies_and_nothing_else_does() {
    let pepper = Pepper::from_bytes(&[7; 32]);
    let key = pepper.generate();
    assert!(key.token.starts_with("sk-sy-") && key.token.len() == 6 + ID_LEN + 1 + SECRET_LEN);
    let presented = parse(&key.token).expect("a virtual key").expect("well formed");
    assert_eq!(presented.id, key.id);
    assert!(pepper.verify(&presented, &key.hash));

    // Another secret under the same id, another pepper, another id: all refused.
    let other_secret = format!("{PREFIX}{}-{}", key.id, "a".repeat(SECRET_LEN));
    assert!(!pepper.verify(&parse(&other_secret).unwrap().unwrap(), &key.hash));
    assert!(!Pepper::from_bytes(&[8; 32]).verify(&presented, &key.hash));
    let moved = pepper.generate();
    assert!(!pepper.verify(&parse(&moved.token).unwrap().unwrap(), &key.hash), "a hash belongs to its id");
    assert!(!pepper.verify(&presented, &SecretHash("zz".into())));
    assert_ne!(pepper.generate().token, key.token);
}

#[test]
fn malformed_keys_say_what_is_wrong() {
    assert_eq!(parse("sk-proj-abc"), None, "other schemes are not ours to judge");
    assert_eq!(parse("sk-sy-abcdefghijkl"), Some(Err(KeyFormatError::NoSecret)));
    assert_eq!(parse("sk-sy-short-abcdefghijklmnopqrstuvwxyz012345"), Some(Err(KeyFormatError::BadId)));
    assert_eq!(parse("sk-sy-abcdefghijkl-tooshort"), Some(Err(KeyFormatError::BadSecret)));
    assert_eq!(parse("sk-sy-ABCDEFGHIJKL-abcdefghijklmnopqrstuvwxyz012345"), Some(Err(KeyFormatError::BadId)));
    assert_eq!(parse("sk-sy-abcdefghijkl-abcdefghijklmnopqrstuvwxyz01234-"), Some(Err(KeyFormatError::BadSecret)));
}

#[test]
fn secrets_never_show_in_debug_output() {
    let pepper = Pepper::from_bytes(&[1; 32]);
    let key = pepper.generate();
    let secret = key.token.rsplit('-').next().unwrap().to_string();
    let shown = format!("{key:?} {:?} {:?}", parse(&key.token).unwrap().unwrap(), key.hash);
    assert!(!shown.contains(&secret) && !shown.contains(&key.hash.0), "{shown}");
    assert!(shown.contains(&key.id), "the id is public: {shown}");
}

#[test]
fn the_pepper_is_created_once_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let first = Pepper::load_or_create(dir.path()).unwrap();
    let key = first.generate();
    let again = Pepper::load_or_create(dir.path()).unwrap();
    assert!(again.verify(&parse(&key.token).unwrap().unwrap(), &key.hash), "the same pepper after a restart");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(PEPPER_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(dir.path().join(PEPPER_FILE), b"short").unwrap();
    let err = Pepper::load_or_create(dir.path()).err().expect("a truncated pepper is refused");
    assert!(err.to_string().contains("shorter than 32 bytes"), "{err}");
}
