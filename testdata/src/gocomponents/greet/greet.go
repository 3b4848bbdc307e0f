// Package greet is a module that lives beside its user and is compiled
// through a replace directive: the build info records it as replaced by a
// directory, with no version.
package greet

// Hello greets who.
func Hello(who string) string { return "hello, " + who }
