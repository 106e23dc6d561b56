// Package pollertest provides test doubles for package poller: a virtual
// Clock and a scripted Operation, so wait loops run in virtual time without
// real sleeps.
package pollertest
