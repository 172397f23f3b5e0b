package main

import (
	"errors"
	"fmt"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// Exit statuses, by kind of failure, so that a script can tell what to do next. The root
// command's help lists them; exit_test.go pins each.
const (
	exitOK             = 0
	exitFailed         = 1 // anything not below
	exitUsage          = 2 // a wrong command, flag, argument or setting; nothing sent
	exitInvalid        = 3 // invalid input: refused before anything was sent, or by the API's validation
	exitNotFound       = 4
	exitCardState      = 5 // the card's state refused the action (already redeemed, too small a balance)
	exitOutcomeUnknown = 6 // a write's answer was lost: check before retrying
	exitUnavailable    = 7 // rate limited, or the API did not answer
	exitAuth           = 8 // the key was refused, or may not do this
	exitPartial        = 9 // some rows of a bulk command failed; the report says which
)

// usageError is a mistake in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// reportedError says a bulk command's rows failed, each said in its report.
type reportedError struct{ failed, rows int }

func (e reportedError) Error() string { return fmt.Sprintf("%d of %d rows failed", e.failed, e.rows) }

// exitCode sorts err into an exit status.
func (a *app) exitCode(err error) int {
	var reported reportedError
	switch {
	case errors.As(err, &reported):
		return exitPartial
	case errors.As(err, new(usageError)) || !a.started:
		return exitUsage
	}
	return kindOf(err)
}

// kindOf sorts an SDK error into an exit status. Outcome unknown comes first: whatever else
// the error says, the write may have been applied. The card's state and the card-type check
// come before the HTTP status they may carry (a 422 answer, say).
func kindOf(err error) int {
	switch {
	case loyalty.IsOutcomeUnknown(err):
		return exitOutcomeUnknown
	case errors.Is(err, loyalty.ErrUnauthorized), errors.Is(err, loyalty.ErrForbidden):
		return exitAuth
	case errors.Is(err, loyalty.ErrCardState):
		return exitCardState
	case errors.Is(err, loyalty.ErrInvalidArgument), errors.Is(err, loyalty.ErrActionNotAllowed):
		return exitInvalid
	case loyalty.IsNotFound(err):
		return exitNotFound
	case errors.Is(err, loyalty.ErrValidation), errors.Is(err, loyalty.ErrBadRequest), errors.Is(err, loyalty.ErrConflict):
		return exitInvalid
	case loyalty.IsRateLimited(err), errors.Is(err, loyalty.ErrServerError), errors.As(err, new(*loyalty.RequestError)):
		return exitUnavailable
	}
	return exitFailed
}
