//! A form as a browser posts it (`application/x-www-form-urlencoded`), read into its
//! fields.

/// A posted form's fields, in order.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// The fields of `body`; `Err` names what is not a form.
    pub(super) fn parse(body: &[u8]) -> Result<Form, String> {
        let mut fields = Vec::new();
        for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            let mut parts = pair.splitn(2, |&b| b == b'=');
            let name = decode(parts.next().unwrap_or_default())?;
            let value = decode(parts.next().unwrap_or_default())?;
            fields.push((name, value));
        }
        Ok(Form(fields))
    }

    /// The first value of field `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One name or value: `+` is a space, `%XX` a byte, and the bytes UTF-8.
fn decode(text: &[u8]) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok());
                let byte = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok());
                let byte = byte.ok_or("the form has a `%` not followed by two hex digits")?;
                bytes.push(byte);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| "the form's text is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn fields_are_decoded() {
        let form =
            Form::parse(b"csrf=ab12&text=a+b%20%3Cscript%3E%C3%A9&kind=remedy&empty=").unwrap();
        assert_eq!(form.get("text"), Some("a b <script>é"));
        assert_eq!(form.get("kind"), Some("remedy"));
        assert_eq!(form.get("empty"), Some(""));
        assert_eq!(form.get("missing"), None);
        assert!(Form::parse(b"text=%zz").is_err());
        assert!(Form::parse(b"text=%").is_err());
        assert!(Form::parse(b"text=%ff").is_err());
    }
}
