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
	d = aws.FromSDKWaiter(d, sdk.NewFunctionActiveV2Waiter)
	aws.MustRegister(d)
	d = fn("FunctionUpdatedV2", update)
	d = aws.FromSDKWaiter(d, sdk.NewFunctionUpdatedV2Waiter)
	aws.MustRegister(d)
	d = fn("FunctionExists", state)
	d = aws.FromSDKWaiter(d, sdk.NewFunctionExistsWaiter)
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
	c = aws.FromSDKWaiter(c, sdk.NewFunctionActiveWaiter)
	aws.MustRegister(c)
	c = conf("FunctionUpdated", func(out *sdk.GetFunctionConfigurationOutput) (string, string) {
		return string(out.LastUpdateStatus), deref(out.LastUpdateStatusReason)
	})
	c = aws.FromSDKWaiter(c, sdk.NewFunctionUpdatedWaiter)
	aws.MustRegister(c)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
