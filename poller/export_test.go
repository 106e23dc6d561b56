package poller

// StripQueryForTest exposes stripQuery to the external tests.
var StripQueryForTest = stripQuery
