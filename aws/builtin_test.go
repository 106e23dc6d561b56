package aws_test

// The tests use the built-in waiters by name.
import _ "github.com/lrokit/lrokit/aws/waiters/all"
