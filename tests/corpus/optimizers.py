"""Unit 4 (optimizers and schedules): the mistakes students really make, and what the grader must say."""

from . import Mutation

M = "optimizers"

ADAM_STEP = (
    "            state.step += 1\n"
    "            if self.decoupled_weight_decay:\n"
    "                p *= 1.0 - self.lr * self.weight_decay\n"
    "            elif self.weight_decay != 0.0:\n"
    "                g = g + self.weight_decay * p\n"
)
ADAM_LAST = "            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n"

MUTATIONS = [
    Mutation(
        "SGD: learning rate applied twice", M,
        "            p -= self.lr * g\n",
        "            p -= self.lr * self.lr * g\n",
        {"optimizers.sgd.trajectory": "applied twice"},
    ),
    Mutation(
        "SGD: plain, weight decay ignored", M,
        "            if self.weight_decay != 0.0:\n                g = g + self.weight_decay * p\n            p -= self.lr * g\n",
        "            p -= self.lr * g\n",
        {"optimizers.sgd.weight_decay": "weight_decay is ignored",
         "optimizers.sgd.hidden_weight_decay": "weight_decay is ignored"},
    ),
    Mutation(
        "SGD: a new array instead of an in-place update", M,
        "            p -= self.lr * g\n",
        "            p = p - self.lr * g\n",
        {"optimizers.sgd.trajectory": "never changed", "optimizers.sgd.in_place": "in place",
         "optimizers.sgd.convergence": "never changes"},
    ),
    Mutation(
        "SGD: weight decay added into the caller's gradient array", M,
        "                g = g + self.weight_decay * p\n            p -= self.lr * g\n",
        "                g += self.weight_decay * p\n            p -= self.lr * g\n",
        {"optimizers.sgd.grads_untouched": "changed the gradient array"},
    ),
    Mutation(
        "Momentum: buffer started at zero (CS231n's v = 0)", M,
        "            if state.momentum_buffer is None:\n"
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        "            if state.momentum_buffer is None:\n"
        "                state.momentum_buffer = np.zeros_like(p)\n"
        "            state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        {"optimizers.momentum.dampening": "starts at zero"},
    ),
    Mutation(
        "Momentum: dampening ignored", M,
        "state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g",
        "state.momentum_buffer = self.momentum * state.momentum_buffer + g",
        {"optimizers.momentum.dampening": "dampening is ignored"},
    ),
    Mutation(
        "Momentum: one state object shared by every parameter", M,
        "        self.dampening = float(dampening)\n        self.weight_decay = float(weight_decay)\n"
        "        self.state = [MomentumState() for _ in self.params]\n",
        "        self.dampening = float(dampening)\n        self.weight_decay = float(weight_decay)\n"
        "        self.state = [MomentumState()] * len(self.params)\n",
        {"optimizers.momentum.state_per_parameter": "state is shared between parameters"},
    ),
    Mutation(
        "NAG: written as plain momentum", M,
        "            p -= self.lr * (g + self.momentum * state.momentum_buffer)\n",
        "            p -= self.lr * state.momentum_buffer\n",
        {"optimizers.nag.trajectory": "plain momentum"},
    ),
    Mutation(
        "NAG: momentum=0 accepted", M,
        "        if momentum <= 0.0:\n",
        "        if momentum < 0.0:\n",
        {"optimizers.nag.validation": "nesterov with momentum=0 must raise valueerror"},
    ),
    Mutation(
        "Adagrad: eps inside the square root", M,
        "p -= lr_t * g / (np.sqrt(state.sum) + self.eps)",
        "p -= lr_t * g / np.sqrt(state.sum + self.eps)",
        {"optimizers.adagrad.eps": "inside the square root"},
    ),
    Mutation(
        "Adagrad: lr_decay counts from t instead of t - 1", M,
        "lr_t = self.lr / (1.0 + (state.step - 1) * self.lr_decay)",
        "lr_t = self.lr / (1.0 + state.step * self.lr_decay)",
        {"optimizers.adagrad.lr_decay": "lr_decay uses t instead of t - 1"},
    ),
    Mutation(
        "Adadelta: eps outside the square roots", M,
        "delta = np.sqrt(state.acc_delta + self.eps) / np.sqrt(state.square_avg + self.eps) * g",
        "delta = (np.sqrt(state.acc_delta) + self.eps) / (np.sqrt(state.square_avg) + self.eps) * g",
        {"optimizers.adadelta.trajectory": "inside both square roots"},
    ),
    Mutation(
        "RMSprop: eps inside the square root", M,
        "denominator = np.sqrt(state.square_avg) + self.eps",
        "denominator = np.sqrt(state.square_avg + self.eps)",
        {"optimizers.rmsprop.eps": "inside the square root"},
    ),
    Mutation(
        "RMSprop: Keras' default smoothing constant 0.9", M,
        "lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,",
        "lr: float = 1e-2, alpha: float = 0.9, eps: float = 1e-8,",
        {"optimizers.rmsprop.trajectory": "alpha = 0.99"},
    ),
    Mutation(
        "RMSprop: centered ignored", M,
        "            if self.centered:\n",
        "            if False:\n",
        {"optimizers.rmsprop.centered": "centered=true is ignored"},
    ),
    Mutation(
        "Adam: bias correction missing", M,
        "            m_hat = state.exp_avg / (1.0 - beta1**state.step)\n"
        "            v_hat = second_moment / (1.0 - beta2**state.step)\n",
        "            m_hat = state.exp_avg\n            v_hat = second_moment\n",
        {"optimizers.adam.trajectory": "bias correction missing",
         "optimizers.adamw.trajectory": "bias correction missing"},
    ),
    Mutation(
        "Adam: bias correction with t starting at 0", M,
        ADAM_STEP + "            state.exp_avg = beta1",
        ADAM_STEP.replace("            state.step += 1\n", "") + "            state.step += 0\n            state.exp_avg = beta1",
        {"optimizers.adam.trajectory": "which is 0 at t = 0"},
    ),
    Mutation(
        "Adam: eps inside the square root", M,
        ADAM_LAST,
        "            p -= self.lr * m_hat / np.sqrt(v_hat + self.eps)\n",
        {"optimizers.adam.eps": "inside the square root"},
    ),
    Mutation(
        "Adam: TensorFlow's epsilon hat (eps before the bias correction)", M,
        ADAM_LAST,
        "            p -= self.lr * m_hat / ((np.sqrt(second_moment) + self.eps) / math.sqrt(1.0 - beta2**state.step))\n",
        {"optimizers.adam.eps": "epsilon hat"},
    ),
    Mutation(
        "Adam: learning rate applied twice", M,
        ADAM_LAST,
        "            p -= self.lr * self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n",
        {"optimizers.adam.trajectory": "applied twice"},
    ),
    Mutation(
        "Adam: amsgrad ignored", M,
        "            if self.amsgrad:\n                state.max_exp_avg_sq",
        "            if False:\n                state.max_exp_avg_sq",
        {"optimizers.adam.amsgrad": "amsgrad=true is ignored"},
    ),
    Mutation(
        "Adam: L2 term added into the caller's gradient array", M,
        "            elif self.weight_decay != 0.0:\n                g = g + self.weight_decay * p\n",
        "            elif self.weight_decay != 0.0:\n                g += self.weight_decay * p\n",
        {"optimizers.adam.grads_untouched": "changed the gradient array"},
    ),
    Mutation(
        "Adam: beta = 1 accepted", M,
        "        if not 0.0 <= beta < 1.0:\n",
        "        if not 0.0 <= beta <= 1.0:\n",
        {"optimizers.adam.validation": "beta1 = 1", "optimizers.adamw.validation": "beta2 = 1"},
    ),
    Mutation(
        "AdamW: weight decay as Adam's L2 term", M,
        "    decoupled_weight_decay = True\n",
        "    decoupled_weight_decay = False\n",
        {"optimizers.adamw.trajectory": "adamw decouples it"},
    ),
    Mutation(
        "AdamW: decay without the learning rate", M,
        "                p *= 1.0 - self.lr * self.weight_decay\n",
        "                p *= 1.0 - self.weight_decay\n",
        {"optimizers.adamw.trajectory": "forgets the learning rate"},
    ),
    Mutation(
        "Momentum: steps with last step's buffer (update after the step)", M,
        "            if state.momentum_buffer is None:\n"
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n"
        "            p -= self.lr * state.momentum_buffer\n",
        "            if state.momentum_buffer is None:\n"
        "                state.momentum_buffer = np.zeros_like(p)\n"
        "            p -= self.lr * state.momentum_buffer\n"
        "            state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        {"optimizers.momentum.trajectory": "last step's momentum buffer",
         "optimizers.momentum.convergence": "the sign of the update looks right"},
    ),
    Mutation(
        "Momentum: lr inside the buffer (CS231n's v = mu v + lr g)", M,
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n"
        "            p -= self.lr * state.momentum_buffer\n",
        "                state.momentum_buffer = self.lr * np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = (self.momentum * state.momentum_buffer\n"
        "                                         + (1.0 - self.dampening) * self.lr * g)\n"
        "            p -= state.momentum_buffer\n",
        {"optimizers.momentum.lr_schedule": "lr is inside the momentum buffer",
         "optimizers.momentum.hidden_lr_schedule": "lr is inside the momentum buffer"},
    ),
    Mutation(
        "NAG: lr inside the buffer (CS231n's form)", M,
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + g\n"
        "            p -= self.lr * (g + self.momentum * state.momentum_buffer)\n",
        "                state.momentum_buffer = self.lr * np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + self.lr * g\n"
        "            p -= self.lr * g + self.momentum * state.momentum_buffer\n",
        {"optimizers.nag.lr_schedule": "lr is inside the momentum buffer",
         "optimizers.nag.hidden_lr_schedule": "lr is inside the momentum buffer"},
    ),
    Mutation(
        "RMSprop: no square root in the denominator", M,
        "denominator = np.sqrt(state.square_avg) + self.eps",
        "denominator = state.square_avg + self.eps",
        {"optimizers.rmsprop.trajectory": "has no square root",
         "optimizers.rmsprop.convergence": "the sign of the update looks right"},
    ),
    Mutation(
        "Adam: no square root in the denominator", M,
        ADAM_LAST,
        "            p -= self.lr * m_hat / (v_hat + self.eps)\n",
        {"optimizers.adam.trajectory": "has no square root"},
    ),
    Mutation(
        "Adagrad: no square root in the denominator", M,
        "p -= lr_t * g / (np.sqrt(state.sum) + self.eps)",
        "p -= lr_t * g / (state.sum + self.eps)",
        {"optimizers.adagrad.trajectory": "has no square root"},
    ),
    # A correct plain optimizer that ignores every option (the arguments accepted, never used): it
    # must earn every plain check and lose exactly its option checks, public and hidden
    # (tests/test_unit_optimizers.py compares the failing checks with must_fail's keys).
    Mutation(
        "Momentum: plain, ignoring dampening and weight_decay", M,
        "            if self.weight_decay != 0.0:\n"
        "                g = g + self.weight_decay * p\n"
        "            if state.momentum_buffer is None:\n"
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        "            if state.momentum_buffer is None:\n"
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + g\n",
        {"optimizers.momentum.dampening": "dampening is ignored",
         "optimizers.momentum.hidden_dampening": "dampening is ignored",
         "optimizers.momentum.weight_decay": "weight_decay is ignored",
         "optimizers.momentum.hidden_weight_decay": "weight_decay is ignored"},
    ),
    Mutation(
        "RMSprop: plain, ignoring weight_decay, centered and momentum", M,
        "            if self.weight_decay != 0.0:\n"
        "                g = g + self.weight_decay * p\n"
        "            state.square_avg = alpha * state.square_avg + (1.0 - alpha) * g * g\n"
        "            if self.centered:\n"
        "                state.grad_avg = alpha * state.grad_avg + (1.0 - alpha) * g\n"
        "                denominator = np.sqrt(state.square_avg - state.grad_avg * state.grad_avg) + self.eps\n"
        "            else:\n"
        "                denominator = np.sqrt(state.square_avg) + self.eps\n"
        "            if self.momentum > 0.0:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + g / denominator\n"
        "                p -= self.lr * state.momentum_buffer\n"
        "            else:\n"
        "                p -= self.lr * g / denominator\n",
        "            state.square_avg = alpha * state.square_avg + (1.0 - alpha) * g * g\n"
        "            p -= self.lr * g / (np.sqrt(state.square_avg) + self.eps)\n",
        {"optimizers.rmsprop.centered": "centered=true is ignored",
         "optimizers.rmsprop.hidden_centered": "centered=true is ignored",
         "optimizers.rmsprop.momentum": "momentum is ignored",
         "optimizers.rmsprop.hidden_momentum": "momentum is ignored",
         "optimizers.rmsprop.weight_decay": "weight_decay is ignored",
         "optimizers.rmsprop.hidden_weight_decay": "weight_decay is ignored"},
    ),
    Mutation(
        "Adam: plain, ignoring weight_decay and amsgrad", M,
        "            elif self.weight_decay != 0.0:\n"
        "                g = g + self.weight_decay * p\n"
        "            state.exp_avg = beta1 * state.exp_avg + (1.0 - beta1) * g\n"
        "            state.exp_avg_sq = beta2 * state.exp_avg_sq + (1.0 - beta2) * g * g\n"
        "            second_moment = state.exp_avg_sq\n"
        "            if self.amsgrad:\n"
        "                state.max_exp_avg_sq = np.maximum(state.max_exp_avg_sq, state.exp_avg_sq)\n"
        "                second_moment = state.max_exp_avg_sq\n",
        "            state.exp_avg = beta1 * state.exp_avg + (1.0 - beta1) * g\n"
        "            state.exp_avg_sq = beta2 * state.exp_avg_sq + (1.0 - beta2) * g * g\n"
        "            second_moment = state.exp_avg_sq\n",
        {"optimizers.adam.weight_decay": "weight_decay is ignored",
         "optimizers.adam.hidden_weight_decay": "weight_decay is ignored",
         "optimizers.adam.amsgrad": "amsgrad=true is ignored",
         "optimizers.adam.hidden_amsgrad": "amsgrad=true is ignored",
         # AdamW runs the same step (its decoupled decay is kept, so only amsgrad is lost there)
         "optimizers.adamw.amsgrad": "amsgrad=true is ignored",
         "optimizers.adamw.hidden_amsgrad": "amsgrad=true is ignored"},
    ),
    Mutation(
        "StepLR: one epoch early", M,
        "return self.base_lr * self.gamma ** (epoch // self.step_size)",
        "return self.base_lr * self.gamma ** ((epoch + 1) // self.step_size)",
        {"optimizers.schedules.step_lr": "one epoch off", "optimizers.schedules.drives_optimizer": "did not drive"},
    ),
    Mutation(
        "MultiStepLR: a milestone applied one epoch late", M,
        "if milestone <= epoch)",
        "if milestone < epoch)",
        {"optimizers.schedules.multistep_lr": "one epoch off", "optimizers.schedules.resnet_recipe": "one epoch off"},
    ),
    Mutation(
        "ResNet recipe: halved instead of divided by ten", M,
        "[int(0.5 * epochs), int(0.75 * epochs)], gamma=0.1)",
        "[int(0.5 * epochs), int(0.75 * epochs)], gamma=0.5)",
        {"optimizers.schedules.resnet_recipe": "lr does not match the reference"},
    ),
    Mutation(
        "CosineAnnealingLR: eta_min forgotten", M,
        "return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + math.cos",
        "return self.base_lr * (1.0 + math.cos",
        {"optimizers.schedules.cosine": "lr does not match the reference"},
    ),
    # --- found by grading other courses' styles
    Mutation(
        "Momentum: dampening applied at t = 1 (b = (1 - tau) g)", M,
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        "                state.momentum_buffer = (1.0 - self.dampening) * np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        # the same numbers as a buffer started at zero: the hint used to say "starts at zero" only
        {"optimizers.momentum.dampening": "dampening applied at t = 1",
         "optimizers.momentum.hidden_dampening": "dampening applied at t = 1"},
    ),
    Mutation(
        "Momentum: buffer aliases the first gradient (b = g; b *= mu)", M,
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        "                state.momentum_buffer = g\n"
        "            else:\n"
        "                state.momentum_buffer *= self.momentum\n"
        "                state.momentum_buffer += (1.0 - self.dampening) * g\n",
        {"optimizers.momentum.grads_untouched": "changed the gradient array"},
    ),
    Mutation(
        "Adam: the paper's efficient form lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)", M,
        "            m_hat = state.exp_avg / (1.0 - beta1**state.step)\n"
        "            v_hat = second_moment / (1.0 - beta2**state.step)\n" + ADAM_LAST,
        "            lr_t = self.lr * math.sqrt(1.0 - beta2**state.step) / (1.0 - beta1**state.step)\n"
        "            p -= lr_t * state.exp_avg / (np.sqrt(second_moment) + self.eps)\n",
        # the docstring pins eps outside sqrt(v_hat) (torch); this form is eps * sqrt(1 - b2^t)
        {"optimizers.adam.eps": "epsilon hat", "optimizers.adam.hidden_eps": "epsilon hat"},
    ),
    Mutation(
        "Adam: one step counter for all parameters, counted per parameter", M,
        ADAM_STEP,
        ADAM_STEP.replace("            state.step += 1\n",
                          "            self.t = getattr(self, 't', 0) + 1\n            state.step = self.t\n"),
        {"optimizers.adam.state_per_parameter": "state is shared"},
    ),
]

#: variants whose must_fail lists *every* check they fail: a correct plain optimizer ignoring its
#: options, and the textbook momentum (lr inside the buffer), equal to torch's while lr is constant
LOSES_EXACTLY = (
    "SGD: plain, weight decay ignored",
    "Momentum: plain, ignoring dampening and weight_decay",
    "RMSprop: plain, ignoring weight_decay, centered and momentum",
    "Adam: plain, ignoring weight_decay and amsgrad",
    "Momentum: lr inside the buffer (CS231n's v = mu v + lr g)",
    "NAG: lr inside the buffer (CS231n's form)",
)


#: Correct code in other courses' styles, and the part whose every check it must still pass.
CORRECT_VARIANTS = [
    ("optimizers.adam", Mutation(
        "Adam as torch writes it: step_size = lr / bc1, denom = sqrt(v) / sqrt(bc2) + eps", M,
        "            m_hat = state.exp_avg / (1.0 - beta1**state.step)\n"
        "            v_hat = second_moment / (1.0 - beta2**state.step)\n" + ADAM_LAST,
        "            bias_correction1 = 1 - beta1**state.step\n"
        "            bias_correction2 = 1 - beta2**state.step\n"
        "            denom = np.sqrt(second_moment) / math.sqrt(bias_correction2) + self.eps\n"
        "            p -= (self.lr / bias_correction1) * state.exp_avg / denom\n",
    )),
    ("optimizers.adam", Mutation(
        "Adam with np.power bias corrections in one expression", M,
        "            m_hat = state.exp_avg / (1.0 - beta1**state.step)\n"
        "            v_hat = second_moment / (1.0 - beta2**state.step)\n" + ADAM_LAST,
        "            bc1, bc2 = 1 - np.power(beta1, state.step), 1 - np.power(beta2, state.step)\n"
        "            p -= self.lr * (state.exp_avg / bc1) / (np.sqrt(second_moment / bc2) + self.eps)\n",
    )),
    ("optimizers.momentum", Mutation(
        "Momentum as torch writes it: clone, then mul_ and add_ in place", M,
        "                state.momentum_buffer = np.array(g, dtype=np.float64)\n"
        "            else:\n"
        "                state.momentum_buffer = self.momentum * state.momentum_buffer + (1.0 - self.dampening) * g\n",
        "                state.momentum_buffer = g.copy()\n"
        "            else:\n"
        "                state.momentum_buffer *= self.momentum\n"
        "                state.momentum_buffer += (1.0 - self.dampening) * g\n",
    )),
]
