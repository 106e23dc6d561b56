package lambda

import (
	sdk "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	fn := func(name string, status func(*sdk.GetFunctionOutput) (string, string)) aws.Definition[sdk.GetFunctionInput, sdk.GetFunctionOutput] {
		return aws.Definition[sdk.GetFunctionInput, sdk.GetFunctionOutput]{
			Name:     "lambda." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).GetFunction),
			Status:   status,
		}
	}
	state := func(out *sdk.GetFunctionOutput) (string, string) {
		if out.Configuration == nil {
			return "", ""
		}
		return string(out.Configuration.State), deref(out.Configuration.StateReason)
	}
	update := func(out *sdk.GetFunctionOutput) (string, string) {
		if out.Configuration == nil {
			return "", ""
		}
		return string(out.Configuration.LastUpdateStatus), deref(out.Configuration.LastUpdateStatusReason)
	}
	d := fn("FunctionActiveV2", state)
	sdk.NewFunctionActiveV2Waiter(nil, func(o *sdk.FunctionActiveV2WaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)
	d = fn("FunctionUpdatedV2", update)
	sdk.NewFunctionUpdatedV2Waiter(nil, func(o *sdk.FunctionUpdatedV2WaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)
	d = fn("FunctionExists", state)
	sdk.NewFunctionExistsWaiter(nil, func(o *sdk.FunctionExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)

	conf := func(name string, status func(*sdk.GetFunctionConfigurationOutput) (string, string)) aws.Definition[sdk.GetFunctionConfigurationInput, sdk.GetFunctionConfigurationOutput] {
		return aws.Definition[sdk.GetFunctionConfigurationInput, sdk.GetFunctionConfigurationOutput]{
			Name:     "lambda." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).GetFunctionConfiguration),
			Status:   status,
		}
	}
	c := conf("FunctionActive", func(out *sdk.GetFunctionConfigurationOutput) (string, string) {
		return string(out.State), deref(out.StateReason)
	})
	sdk.NewFunctionActiveWaiter(nil, func(o *sdk.FunctionActiveWaiterOptions) {
		c.Accept, c.MinDelay, c.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(c)
	c = conf("FunctionUpdated", func(out *sdk.GetFunctionConfigurationOutput) (string, string) {
		return string(out.LastUpdateStatus), deref(out.LastUpdateStatusReason)
	})
	sdk.NewFunctionUpdatedWaiter(nil, func(o *sdk.FunctionUpdatedWaiterOptions) {
		c.Accept, c.MinDelay, c.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(c)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
