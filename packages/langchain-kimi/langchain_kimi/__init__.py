"""LangChain integration for Moonshot AI's Kimi models.

```python
from langchain_kimi import ChatKimi

model = ChatKimi(model="kimi-k2.6")
print(model.invoke("Hello").text)
```
"""

from langchain_kimi._version import __version__
from langchain_kimi.chat_models import ChatKimi
from langchain_kimi.dynamic_tools import system_tools_message
from langchain_kimi.tools import MoonshotFormulaToolkit

__all__ = ["ChatKimi", "MoonshotFormulaToolkit", "__version__", "system_tools_message"]
