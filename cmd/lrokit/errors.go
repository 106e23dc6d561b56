package main

// humanNetError says what a transport error means, without the URL's query.
func humanNetError(err error) string {
	return redactURL(err).Error()
}
