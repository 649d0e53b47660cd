"""What the server says in words, in the reader's language (``server.i18n``): alert
notices (e-mails, SMS, the tutor's list), the week's explanation, the annual grid's
labels. Below the services and the adapters, which both use them."""
